#!/bin/sh
# spamcheck training never writes through a symbolic link planted beside
# a database: a per-user database lives in a directory the mail user can
# write (the man page's ./.spamcheck.db in the Maildir), while an admin
# may train it as root. A link at db.tmp must not make root truncate and
# overwrite its target; a link at db.lock must not make root create a
# file anywhere (e.g. /etc/nologin). A FIFO at the database path (which
# the mail user can make there) must not hang the classifier in the
# delivery chain or root's training: it is refused like a corrupt file.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
mkdir -p "$T/maildir"
printf 'precious\n' > "$T/victim"
printf 'Subject: cheap pills\n\nbuy cheap pills now\n' > "$T/msg"

ln -s "$T/victim" "$T/maildir/.spamcheck.db.tmp"
"$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -s < "$T/msg" 2>"$T/err"
is $? 0 "training with a link planted at db.tmp succeeds"
is "$(cat "$T/victim")" "precious" "the link's target is left alone"
[ -f "$T/maildir/.spamcheck.db" ] && [ ! -L "$T/maildir/.spamcheck.db" ]
ok $? "the database is a file of its own, not the link renamed into place"
"$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -l "$T/msg" >/dev/null 2>&1
ok $? "and it opens"

rm -f "$T/maildir/.spamcheck.db.lock"
ln -s "$T/created" "$T/maildir/.spamcheck.db.lock"
"$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -s < "$T/msg" 2>"$T/err"
is $? 111 "a link at db.lock: training refuses (temporary, 111)"
[ ! -e "$T/created" ]
ok $? "no file created at the link's target"

mkfifo "$T/maildir/fifo.db" 2>/dev/null || skip_all "no mkfifo"
timeout 5 "$SC" -d "$T/none.db" -u "$T/maildir/fifo.db" -p true < "$T/msg" 2>/dev/null
is $? 111 "a FIFO as the per-user database: classifying fails at once (111), no hang"
timeout 5 "$SC" -d "$T/maildir/fifo.db" -q true < "$T/msg" 2>/dev/null
is $? 55 "a FIFO as the database in the queue chain: 55"
timeout 5 "$SC" -d "$T/none.db" -u "$T/maildir/fifo.db" -s < "$T/msg" 2>/dev/null
is $? 111 "training into it fails at once (111), no hang"
done_testing
