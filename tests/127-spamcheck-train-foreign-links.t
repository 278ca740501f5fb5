#!/bin/sh
# spamcheck training from a directory that belongs to another user (root
# training a mail user's ~/Maildir/.Junk from cron): a symbolic link the
# user planted there is not followed, so root never reads a file only root
# may (a secret, another user's mail) into a database that user can read,
# neither as a message nor as the Maildir's cur/ or new/.
# In a directory of the trainer's own, links are followed (a training set
# of links into a corpus). FIFOs and directories are skipped, no hang.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ "$(id -u)" = 0 ] || skip_all "needs root (a Maildir of another user)"
msg() { printf 'Subject: cheap pills %s\n\nbuy cheap pills now %s\n' "$1" "$1"; }
count() { sed -n 's/.*event=train .*messages=\([0-9]*\).*/\1/p' "$1"; }

md="$T/home/Maildir/.Junk"
mkdir -p "$md/cur" "$md/new" "$md/tmp"
msg one > "$md/cur/1"
msg two > "$md/new/2"
printf 'root:$6$secret$hash:19000:0:99999:7:::\n' > "$T/secret"
chmod 600 "$T/secret"
ln -s "$T/secret" "$md/cur/3"
mkfifo "$md/new/4"
mkdir "$md/new/5"
chown -R "$MAILUID:$MAILGID" "$T/home"

timeout 60 "$SC" -d "$T/db" -s "$md" 2>"$T/err"
is "$?" 0 "root trains the user's folder: exit 0 (no hang on the FIFO)"
is "$(count "$T/err")" 2 "the two messages learnt; the link to root's file is not followed"
timeout 60 "$SC" -d "$T/db" -l "$md" > "$T/list" 2>/dev/null
is "$(wc -l < "$T/list" | tr -d ' ')" 2 "-l lists the two messages only"
grep -q '/cur/3$' "$T/list"; is "$?" 1 "-l does not read through the link"

# the user's Maildir whose cur/ is a link to a directory of root's
md2="$T/home2/Maildir"
mkdir -p "$md2/new" "$md2/tmp" "$T/rootdir"
msg four > "$md2/new/1"
printf 'root-only words\n' > "$T/rootdir/private"
chmod 700 "$T/rootdir"
ln -s "$T/rootdir" "$md2/cur"
chown -R "$MAILUID:$MAILGID" "$T/home2"
chown -h "$MAILUID:$MAILGID" "$md2/cur"
timeout 60 "$SC" -d "$T/db4" -s "$md2" 2>"$T/err4"
is "$(count "$T/err4")" 1 "a Maildir's cur/ linked to root's directory is not read"

# both new/ and cur/ links: still a Maildir (nothing in it read), never
# taken for a plain directory whose files (maildirsize...) are messages
md3="$T/home3/Maildir"
mkdir -p "$md3"
printf '100000S\n0 0\n' > "$md3/maildirsize"
ln -s "$T/rootdir" "$md3/cur"
ln -s "$T/rootdir" "$md3/new"
chown -R "$MAILUID:$MAILGID" "$T/home3"
chown -h "$MAILUID:$MAILGID" "$md3/cur" "$md3/new"
timeout 60 "$SC" -d "$T/db5" -s "$md3" 2>"$T/err5"
is "$(count "$T/err5")" 0 "a Maildir whose new/ and cur/ are links: no message read"

# an empty folder (nothing to learn, under the sanitizers too)
mkdir -p "$T/empty/cur" "$T/empty/new"
timeout 60 "$SC" -d "$T/db6" -s "$T/empty" 2>"$T/err6"
is "$?" 0 "an empty Maildir: exit 0"
is "$(count "$T/err6")" 0 "an empty Maildir: no message"

# the trainer's own directory: links into a corpus are the training set
mkdir -p "$T/set"
msg three > "$T/m3"
ln -s "$T/m3" "$T/set/a"
ln -s "$T/m3" "$T/set/b"
mkfifo "$T/set/fifo"
ln -s "$T/set/fifo" "$T/set/c"
timeout 60 "$SC" -d "$T/db2" -s "$T/set" 2>"$T/err2"
is "$?" 0 "own directory of links: exit 0"
is "$(count "$T/err2")" 2 "own directory: links to files followed, a link to a FIFO skipped"

# a path named on the command line is read as named, link or not
ln -s "$T/m3" "$T/named"
timeout 60 "$SC" -d "$T/db3" -s "$T/named" 2>"$T/err3"
is "$(count "$T/err3")" 1 "a link named on the command line is followed"
done_testing
