#!/bin/sh
# A users line edited by hand with uid or gid 0 compiled, though mailuser
# add refuses them and no delivery or login ever runs as root: the user
# looked fine to mailuser check and smtp-recv, and every message to it
# was deferred by queue-run ("refusing to deliver as root") until it
# bounced days later. Such a line is now a syntax error: mailuser rebuild
# names the line, exits 100, and the old database stays in use.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"
"$M" domain add example.test
good="ok@example.test:\$6\$salt\$hash:$MAILUID:$MAILGID:$T/mail/ok:0"
printf '%s\n' "$good" >"$C/users"
"$M" rebuild; ok $? "a good users file compiles"
before=$(cksum <"$C/users.cdb")

for ids in "0:$MAILGID" "$MAILUID:0" "0:0" "00:$MAILGID"; do
	printf '%s\nroot@example.test:$6$salt$hash:%s:%s/mail/root:0\n' "$good" "$ids" "$T" >"$C/users"
	"$M" rebuild 2>"$T/err"; rc=$?
	is "$rc" 100 "uid:gid $ids: rebuild exits 100"
	grep -q "syntax error in $C/users line 2" "$T/err"; ok $? "uid:gid $ids: the line is named"
	is "$(cksum <"$C/users.cdb")" "$before" "uid:gid $ids: users.cdb unchanged"
	"$M" check root@example.test >/dev/null 2>&1
	is "$?" 100 "uid:gid $ids: not a local recipient"
done
printf '%s\n' "$good" >"$C/users"
"$M" rebuild; ok $? "fixed: compiles again"
is "$("$M" check ok@example.test | cut -d' ' -f3,4)" "$MAILUID $MAILGID" "the good user is there"
done_testing
