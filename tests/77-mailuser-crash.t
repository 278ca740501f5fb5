#!/bin/sh
# mailuser killed at either of its two renames (the text file's and the
# database's): the database the servers read is never ahead of the text
# file. Were it ahead, a user the servers already accepted (mail taken,
# logins allowed) would vanish at the next change, silently, and a deleted
# one would come back. After the next change both agree again.
# And a hand edit that left one address on two lines (the compiler refuses
# it; only rebuild would have said so): del must not remove the first line
# only and report success while the second keeps the account alive.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || skip_all "strace not installed"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"

fresh() {
	rm -rf "$C" "$T/mail"
	mkdir "$C"
	"$M" domain add example.test
	for u in a b; do
		echo "pw-$u" | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/$u" "$u@example.test" || exit 1
	done
}
in_text() { "$M" list | grep -q "^$1 "; }       # the users file
in_cdb() { "$M" check "$1" >/dev/null 2>&1; }    # what a server sees
hash_text() { grep "^$1:" "$C/users" | cut -d: -f2; }
hash_cdb() { cdb -q "$C/users.cdb" "$1" | cut -d: -f1; }

# run mailuser ARGS... with SIGKILL at the Nth rename(2); its stdin from $IN
killed_at() {
	n=$1; shift
	printf '%s\n' "$IN" | strace -o /dev/null -e trace=rename -e "inject=rename:signal=KILL:when=$n" "$M" "$@" 2>/dev/null
}

for n in 1 2; do
	fresh
	IN=pw-c killed_at "$n" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/c" c@example.test
	if in_cdb c@example.test; then in_text c@example.test; ok $? "add killed at rename $n: a user servers see is in the users file"
	else ok 0 "add killed at rename $n: not visible yet"; fi
	echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/z" z@example.test; ok $? "add after the kill ($n)"
	a=0; in_text c@example.test && a=1; b=0; in_cdb c@example.test && b=1
	is "$b" "$a" "add killed at rename $n: the next change leaves text and database agreeing"

	fresh
	IN= killed_at "$n" del b@example.test
	if in_cdb b@example.test; then ok 0 "del killed at rename $n: not effective yet"
	else in_text b@example.test; ok $((!$?)) "del killed at rename $n: a user servers no longer see is gone from the users file"; fi
	echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/z" z@example.test; ok $? "add after the kill ($n)"
	a=0; in_text b@example.test && a=1; b=0; in_cdb b@example.test && b=1
	is "$b" "$a" "del killed at rename $n: the next change leaves text and database agreeing"

	fresh
	old=$(hash_cdb a@example.test)
	IN=new-pw killed_at "$n" passwd a@example.test
	if [ "$(hash_cdb a@example.test)" != "$old" ]; then
		is "$(hash_text a@example.test)" "$(hash_cdb a@example.test)" "passwd killed at rename $n: a hash servers use is in the users file"
	else ok 0 "passwd killed at rename $n: not effective yet"; fi
	echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/z" z@example.test; ok $? "add after the kill ($n)"
	is "$(hash_text a@example.test)" "$(hash_cdb a@example.test)" "passwd killed at rename $n: the next change leaves text and database agreeing"
done
ls "$C" | grep -q '\.tmp$'; ok $((!$?)) "no temporary files left after the last change"

fresh
grep '^a@' "$C/users" >"$T/dup"
cat "$T/dup" >>"$C/users"
cp "$C/users" "$T/users.before"
"$M" del a@example.test 2>"$T/err"
is $? 100 "del of an address on two lines of users: exit 100"
grep -q "users line 3" "$T/err"; ok $? "the message names the second line: $(cat "$T/err")"
cmp -s "$C/users" "$T/users.before"; ok $? "users unchanged"
"$M" alias add x@example.test a@example.test
printf 'x@example.test: b@example.test\n' >>"$C/aliases"
"$M" alias del x@example.test
is $? 100 "alias del of an alias on two lines: exit 100"
"$M" check x@example.test >/dev/null; ok $? "and the alias is still in force, as the file says"
done_testing
