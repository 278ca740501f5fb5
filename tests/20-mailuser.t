#!/bin/sh
# mailuser: add, change, delete, list users, domains and aliases; a
# server-side lookup (mailuser check = conf_rcpt_local over the cdb, and
# cdb -q) sees each change; bad input exits 100 and changes nothing.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C" PIPEMAIL_MAILROOT="$T/vhosts"
mkdir "$C"
U="-u $MAILUID -g $MAILGID"

snap() { (cd "$C" && cat domains users aliases domains.cdb users.cdb aliases.cdb 2>/dev/null) | cksum; }
# refused CODE NAME CMD...: exits CODE and the control files stay as they were
refused() {
	want=$1 name=$2; shift 2
	before=$(snap)
	"$@" >/dev/null 2>"$T/err"; rc=$?
	is "$rc" "$want" "$name: exit $want"
	is "$(snap)" "$before" "$name: nothing changed"
	grep -Eq '^mailuser: (fatal|usage): ' "$T/err"; ok $? "$name: one clear message"
}
mode() { stat -c %a "$1"; }

# domains
"$M" domain add Example.TEST; ok $? "domain add"
is "$("$M" domain list)" "example.test" "domain list, lower-cased"
"$M" domain add other.test; ok $? "second domain"
refused 100 "duplicate domain" "$M" domain add example.test
refused 100 "malformed domain" "$M" domain add 'bad domain'
refused 100 "domain with @" "$M" domain add 'a@b'

# users
echo 'sekret' | "$M" add $U -d "$T/mail/alice" Alice@Example.test; ok $? "add alice"
for s in tmp new cur; do
	test -d "$T/mail/alice/$s"; ok $? "maildir $s exists"
	is "$(stat -c '%a %u %g' "$T/mail/alice/$s")" "700 $MAILUID $MAILGID" "maildir $s mode and owner"
done
is "$(stat -c '%a %u %g' "$T/mail/alice")" "700 $MAILUID $MAILGID" "maildir mode and owner"
is "$(mode "$T/mail")" 755 "created parent is traversable"
is "$("$M" check alice@example.test)" "user alice@example.test $MAILUID $MAILGID 0 $T/mail/alice" "check sees the new user"
is "$("$M" check ALICE+lists@EXAMPLE.TEST)" "user alice@example.test $MAILUID $MAILGID 0 $T/mail/alice" "check: +detail, any case"
v=$(cdb -q "$C/users.cdb" alice@example.test); ok $? "cdb -q finds alice"
case $v in '$y$'*":$MAILUID:$MAILGID:$T/mail/alice:0"|'$6$'*":$MAILUID:$MAILGID:$T/mail/alice:0") r=0 ;; *) r=1 ;; esac
ok $r "users.cdb value is HASH:UID:GID:MAILDIR:QUOTA"
grep -q sekret "$C/users" "$C/users.cdb"; ok $((!$?)) "no clear-text password stored"
is "$(mode "$C/users")" 600 "users is 0600"
is "$(mode "$C/users.cdb")" 640 "users.cdb is 0640"
is "$(mode "$C/domains.cdb")" 644 "domains.cdb is 0644"
ls "$C" | grep -q '\.tmp$'; ok $((!$?)) "no temporary files left"

printf 'pw\r\n' | "$M" add $U -q 10M bob@example.test; ok $? "add bob with the default maildir"
test -d "$T/vhosts/example.test/bob/Maildir/new"; ok $? "default maildir under PIPEMAIL_MAILROOT/DOMAIN/LOCAL/Maildir"
is "$(mode "$T/vhosts/example.test")" 755 "default parents traversable"
is "$("$M" check bob@example.test | cut -d' ' -f5)" 10485760 "quota with a suffix"
printf 'x' | "$M" add $U -d "$T/mail/carol" -q 123 carol@other.test; ok $? "password without a newline"
is "$("$M" list | wc -l | tr -d ' ')" 3 "list shows three users"
"$M" list | grep -qx "alice@example.test $MAILUID $MAILGID 0 $T/mail/alice"; ok $? "list line: address uid gid quota maildir"

refused 100 "duplicate user" sh -c "echo pw | $M add $U -d $T/mail/x alice@example.test"
refused 100 "duplicate user, other case" sh -c "echo pw | $M add $U -d $T/mail/x ALICE@example.test"
refused 100 "no domain" sh -c "echo pw | $M add $U -d $T/mail/x alice"
refused 100 "non-local domain" sh -c "echo pw | $M add $U -d $T/mail/x x@elsewhere.test"
refused 100 "colon in address" sh -c "echo pw | $M add $U -d $T/mail/x 'a:b@example.test'"
refused 100 "slash in address" sh -c "echo pw | $M add $U 'a/b@example.test'"
refused 100 "dot-dot local part" sh -c "echo pw | $M add $U '..@example.test'"
refused 100 "space in address" sh -c "echo pw | $M add $U -d $T/mail/x 'a b@example.test'"
refused 100 "control byte in address" sh -c "echo pw | $M add $U -d $T/mail/x \"\$(printf 'a\\001b@example.test')\""
refused 100 "newline in address" sh -c "echo pw | $M add $U -d $T/mail/x \"\$(printf 'a\\nb@example.test')\""
long=$(printf '%0330d' 0)
refused 100 "over-long address" sh -c "echo pw | $M add $U -d $T/mail/x ${long}@example.test"
refused 100 "over-long local part" sh -c "echo pw | $M add $U -d $T/mail/x $(printf '%065d' 0)@example.test"
refused 100 "relative maildir" sh -c "echo pw | $M add $U -d mail/x dave@example.test"
refused 100 "maildir with .." sh -c "echo pw | $M add $U -d $T/../x dave@example.test"
refused 100 "maildir with a colon" sh -c "echo pw | $M add $U -d $T/a:b dave@example.test"
refused 100 "over-long maildir" sh -c "echo pw | $M add $U -d /$(printf '%01100d' 0) dave@example.test"
refused 100 "bad quota" sh -c "echo pw | $M add $U -q 12x -d $T/mail/x dave@example.test"
refused 100 "quota overflow" sh -c "echo pw | $M add $U -q 99999999999999999999 -d $T/mail/x dave@example.test"
refused 100 "unknown user name" sh -c "echo pw | $M add -u no-such-user-here -d $T/mail/x dave@example.test"
refused 100 "unknown group name" sh -c "echo pw | $M add -u 1234 -g no-such-group-here -d $T/mail/x dave@example.test"
refused 100 "uid 0" sh -c "echo pw | $M add -u 0 -g 1234 -d $T/mail/x dave@example.test"
refused 100 "empty password" sh -c "echo | $M add $U -d $T/mail/x dave@example.test"
refused 100 "no password" sh -c "$M add $U -d $T/mail/x dave@example.test </dev/null"
refused 100 "over-long password" sh -c "printf '%0600d\n' 0 | $M add $U -d $T/mail/x dave@example.test"
refused 100 "usage: no address" sh -c "echo pw | $M add $U"
refused 100 "usage: unknown command" "$M" frobnicate
test -e "$T/mail/x"; ok $((!$?)) "no maildir made for refused users"
if ! id vmail >/dev/null 2>&1; then
	refused 100 "no vmail user and no -u" sh -c "echo pw | $M add -d $T/mail/x dave@example.test"
	grep -q vmail "$T/err"; ok $? "the message names vmail"
fi

# passwords change; the password never goes through argv
old=$(cdb -q "$C/users.cdb" alice@example.test)
echo 'new secret' | "$M" passwd alice@example.test; ok $? "passwd"
new=$(cdb -q "$C/users.cdb" alice@example.test)
test "$old" != "$new"; ok $? "hash changed in users.cdb"
is "${new#*:}" "${old#*:}" "only the hash changed"
refused 100 "passwd for a missing user" sh -c "echo pw | $M passwd nobody@example.test"
refused 100 "passwd with no password" sh -c "$M passwd alice@example.test </dev/null"
refused 100 "passwd with extra argument" sh -c "echo pw | $M passwd alice@example.test extra"

# aliases
"$M" alias add postmaster@example.test alice@example.test far@away.test; ok $? "alias add"
is "$("$M" check postmaster@example.test)" "alias postmaster@example.test: alice@example.test,far@away.test" "check sees the alias"
is "$(cdb -q "$C/aliases.cdb" postmaster@example.test)" "alice@example.test,far@away.test" "cdb -q sees the alias"
is "$("$M" check postmaster+x@example.test)" "alias postmaster@example.test: alice@example.test,far@away.test" "alias +detail"
"$M" check zed@example.test >/dev/null 2>&1; is $? 100 "no catch-all yet: unknown is not local"
"$M" alias add @example.test alice@example.test; ok $? "catch-all alias"
is "$("$M" check zed@example.test)" "alias @example.test: alice@example.test" "catch-all matches"
is "$("$M" alias list | wc -l | tr -d ' ')" 2 "alias list"
refused 100 "duplicate alias" "$M" alias add postmaster@example.test bob@example.test
refused 100 "alias shadowing a user" "$M" alias add alice@example.test bob@example.test
refused 100 "user shadowing an alias" sh -c "echo pw | $M add $U -d $T/mail/x postmaster@example.test"
refused 100 "alias in a non-local domain" "$M" alias add x@elsewhere.test alice@example.test
refused 100 "alias target without domain" "$M" alias add x@example.test alice
refused 100 "alias target with a pipe" "$M" alias add x@example.test '|/bin/sh@example.test'
refused 100 "alias target with a comma" "$M" alias add x@example.test 'a,b@example.test'
refused 100 "alias without targets" "$M" alias add x@example.test
refused 100 "alias del missing" "$M" alias del x@example.test
"$M" alias del @example.test; ok $? "alias del catch-all"
"$M" check zed@example.test >/dev/null 2>&1; is $? 100 "catch-all gone"

# delete
"$M" del bob@example.test; ok $? "del bob"
"$M" check bob@example.test >/dev/null 2>&1; is $? 100 "check: bob is gone"
cdb -q "$C/users.cdb" bob@example.test >/dev/null; is $? 100 "cdb -q: bob is gone"
test -d "$T/vhosts/example.test/bob/Maildir"; ok $? "del keeps the mail"
refused 100 "del missing user" "$M" del bob@example.test
refused 100 "domain del with users" "$M" domain del example.test
refused 100 "domain del unknown" "$M" domain del nowhere.test
"$M" del carol@other.test && "$M" domain del other.test; ok $? "domain del once empty"
"$M" check carol@other.test >/dev/null 2>&1; is $? 100 "deleted domain not local"

# hand edits: rebuild; a broken line is reported and changes nothing
echo "hand@example.test:*:$MAILUID:$MAILGID:$T/mail/hand:0" >>"$C/users"
"$M" check hand@example.test >/dev/null 2>&1; is $? 100 "hand edit not seen before rebuild"
"$M" rebuild; ok $? "rebuild"
is "$("$M" check hand@example.test | cut -d' ' -f2)" hand@example.test "hand edit seen after rebuild"
echo "broken line" >>"$C/users"
refused 100 "rebuild with a syntax error" "$M" rebuild
grep -q "$C/users line $(wc -l <"$C/users")" "$T/err"; ok $? "the message names the file and line"
refused 100 "add refused while users is broken" sh -c "echo pw | $M add $U -d $T/mail/y yves@example.test"
# one broken table stops them all: a new domain without its new users
# would refuse their mail for good
echo "hand.test" >>"$C/domains"
echo "new@hand.test:*:$MAILUID:$MAILGID:$T/mail/new:0" >>"$C/users"
refused 100 "rebuild with a new domain and a syntax error in users" "$M" rebuild
cdb -q "$C/domains.cdb" hand.test >/dev/null; is $? 100 "the new domain not taken in alone"
is "$(ls "$C" | grep -c tmp)" 0 "no staged database left"
sed -i '$d' "$C/users"
sed -i '$d' "$C/users"
sed -i '$d' "$C/domains"
echo "HAND@example.test:*:1:1:/x:0" >>"$C/users"
refused 100 "rebuild with a duplicate" "$M" rebuild
sed -i '$d' "$C/users"

# what a server sees when the database is damaged: temporary, never "no"
cp "$C/users.cdb" "$T/users.cdb.good"
head -c 100 /dev/urandom >"$C/users.cdb"
"$M" check alice@example.test >/dev/null 2>&1; is $? 111 "short users.cdb: temporary error"
head -c 5000 /dev/urandom >"$C/users.cdb"
"$M" check alice@example.test >/dev/null 2>&1; rc=$?
test "$rc" = 111 || test "$rc" = 0; ok $? "random users.cdb: never 'not local' (got $rc)"
rm "$C/users.cdb"
"$M" check alice@example.test >/dev/null 2>&1; is $? 111 "missing users.cdb with users present: temporary"
cp "$T/users.cdb.good" "$C/users.cdb"
mv "$C/domains.cdb" "$T/d"
"$M" check alice@example.test >/dev/null 2>&1; is $? 111 "missing domains.cdb: temporary"
mv "$T/d" "$C/domains.cdb"
is "$("$M" check alice@example.test | cut -d' ' -f2)" alice@example.test "restored"

# a fresh control dir: no users, no aliases files yet means empty
C2=$T/conf2; mkdir "$C2"
PIPEMAIL_CONF=$C2 "$M" domain add fresh.test; ok $? "fresh control dir"
PIPEMAIL_CONF=$C2 "$M" check x@fresh.test >/dev/null 2>&1; is $? 100 "no users/aliases at all: not local, not an error"
is "$(PIPEMAIL_CONF=$C2 "$M" list)" "" "list of nothing"
done_testing
