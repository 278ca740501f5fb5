#!/bin/sh
# spamcheck training when the database path is a symbolic link. Training
# writes a new file and renames it over the path, which replaced the link
# with a file and left its target as it was: an admin's
# /etc/pipemail/spamcheck.db -> /var/lib/pipemail/spamcheck.db went on
# training a copy that whatever names the target never saw, and two
# trainers naming the link and the target locked different lock files.
# In a per-user database's directory (the mail user's Maildir) a link
# planted there made root read the linked database (another user's)
# into one the user reads. Training now refuses a link at the database
# path (exit 111) and reads nothing through it; classification still
# reads through one, and a link in the directories above is fine.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
mkdir -p "$T/real" "$T/etc" "$T/spam" "$T/ham"
i=0
while [ $i -lt 12 ]; do
	printf 'From: promo%d@deals.example\nSubject: cheap pills %d\n\nBuy cheap pills now at http://pills.example/\n' $i $i > "$T/spam/$i"
	printf 'From: colleague%d@work.example\nSubject: meeting %d\nMessage-ID: <%d@work.example>\n\nThe project meeting moves to room %d.\n' $i $i $i $i > "$T/ham/$i"
	i=$((i + 1))
done
"$SC" -d "$T/real/sc.db" -L "$T/spam" "$T/ham" 2>/dev/null
ok $? "a database"
cp "$T/real/sc.db" "$T/before.db"
ln -s "$T/real/sc.db" "$T/etc/sc.db"

"$SC" -d "$T/etc/sc.db" -s "$T/spam/1" 2>"$T/err"
is $? 111 "-s through a link at the database path: refused (111)"
grep -q 'fatal: unable to update' "$T/err"
ok $? "and says so"
"$SC" -d "$T/etc/sc.db" -L "$T/spam" "$T/ham" 2>/dev/null
is $? 111 "-L through the link: refused (111)"
[ -L "$T/etc/sc.db" ] && cmp -s "$T/real/sc.db" "$T/before.db"
ok $? "the link is still a link, its target unchanged"
printf 'Subject: cheap pills\n\nBuy cheap pills now at http://pills.example/\n' | "$SC" -e -d "$T/etc/sc.db" >/dev/null 2>&1
is $? 1 "classifying through the link still works"

# a dangling link: no database created anywhere
ln -s "$T/nowhere.db" "$T/etc/dangling.db"
"$SC" -d "$T/etc/dangling.db" -s "$T/spam/1" 2>/dev/null
is $? 111 "a dangling link: refused (111)"
[ -L "$T/etc/dangling.db" ] && [ ! -e "$T/nowhere.db" ]
ok $? "nothing created at either end"

# a per-user database that is a link to another database: never read
mkdir "$T/maildir"
ln -s "$T/real/sc.db" "$T/maildir/.spamcheck.db"
"$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -s "$T/spam/1" 2>/dev/null
is $? 111 "-u: a link planted as the per-user database is refused"
[ -L "$T/maildir/.spamcheck.db" ] && cmp -s "$T/real/sc.db" "$T/before.db"
ok $? "-u: the linked database is neither read into a copy nor changed"

# a link above the database is no concern
ln -s "$T/real" "$T/dirlink"
"$SC" -d "$T/dirlink/sc.db" -s "$T/spam/1" 2>/dev/null
is $? 0 "a link in the directory path: trained"
[ -f "$T/real/sc.db" ] && ! cmp -s "$T/real/sc.db" "$T/before.db"
ok $? "the database in the real directory changed"
done_testing
