#!/bin/sh
# A control text file gone (an rm, a restore that missed it) while its
# cdb still holds entries: mailuser rebuild, or an edit of that table,
# would compile it as empty and drop every user or alias at once, so that
# mail to them bounces. It refuses (exit 100, saying what to do) and
# changes nothing; with the cdb removed too, it starts empty as on a first
# run.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"

"$M" rebuild; ok $? "a first run, no files at all: rebuild"
"$M" domain add example.test
echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/a" a@example.test
"$M" alias add list@example.test a@example.test
"$M" check a@example.test >/dev/null; ok $? "set up: a@ found"
cp "$C/users.cdb" "$T/users.cdb.before"
cp "$C/domains.cdb" "$T/domains.cdb.before"

rm "$C/users"
"$M" rebuild 2>"$T/err"; is $? 100 "users gone, users.cdb full: rebuild refused with 100"
grep -q "users is missing while .*users.cdb holds entries" "$T/err"; ok $? "and says so ($(cat "$T/err"))"
cmp -s "$C/users.cdb" "$T/users.cdb.before"; ok $? "users.cdb unchanged"
cmp -s "$C/domains.cdb" "$T/domains.cdb.before"; ok $? "domains.cdb unchanged (checked before any table)"
echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/b" b@example.test 2>/dev/null
is $? 100 "an add to the missing users refused too"
cmp -s "$C/users.cdb" "$T/users.cdb.before"; ok $? "users.cdb still unchanged"
[ ! -e "$C/users" ]; ok $? "no users file made from nothing"
"$M" check a@example.test >/dev/null; ok $? "a@ still found"
"$M" alias add other@example.test a@example.test 2>/dev/null
is $? 100 "an alias add, which reads users to check for a clash, refused too"
"$M" domain add other.test; ok $? "a table that does not read users can still be edited"

rm "$C/users.cdb"
"$M" rebuild; ok $? "with users.cdb removed as well: rebuild starts users empty"
"$M" check a@example.test >/dev/null 2>&1; is $? 100 "a@ gone, as asked"
done_testing
