#!/bin/sh
# queue-add installed setgid (INSTALL, section 2) runs for any local user:
# a set-id queue-add ignores PIPEMAIL_QUEUE and PIPEMAIL_CONF and keeps
# its built-in directories, so nobody can make it write where the group
# may but the user may not. Without set-id the overrides still count.
# Copies made setgid to a scratch gid here, run as nobody: root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (chgrp, setpriv)"
command -v setpriv >/dev/null || skip_all "no setpriv"
UNIT=${PIPEMAIL_UNIT:-$top/obj/unit}

# a gid no group has: the scratch group of the setgid copies
g=61000
while getent group "$g" >/dev/null && [ "$g" -lt 61100 ]; do g=$((g + 1)); done
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

printf 'Subject: setgid\n\nbody\n' > "$T/msg"
printf 'Fa@example.org\0Tb@example.test\0\0' > "$T/env"
# the queue a user names: writable by nobody and by the scratch group
install -d -m 0770 -o 65534 -g "$g" "$T/evil" "$T/plainq"
mkdir -p "$T/evilconf"

cp "$BIN/queue-add" "$T/qa-setgid"
chgrp "$g" "$T/qa-setgid"
chmod 2755 "$T/qa-setgid"
PIPEMAIL_QUEUE="$T/evil" PIPEMAIL_CONF="$T/evilconf" \
	asnobody "$T/qa-setgid" 0<"$T/msg" 1<"$T/env" 2>"$T/err"
diag "setgid queue-add as nobody: exit $? ($(cat "$T/err"))"
is "$(ls -A "$T/evil")" "" "setgid queue-add: nothing written into \$PIPEMAIL_QUEUE"
grep -q "$T/evil" "$T/err"; is $? 1 "setgid queue-add: \$PIPEMAIL_QUEUE not even tried"

# the same program without set-id: the override counts (the suite and
# make run depend on it)
cp "$BIN/queue-add" "$T/qa-plain"
chmod 0755 "$T/qa-plain"
PIPEMAIL_QUEUE="$T/plainq" asnobody "$T/qa-plain" 0<"$T/msg" 1<"$T/env" 2>"$T/err"
is $? 0 "plain queue-add as nobody: exit 0 ($(cat "$T/err"))"
is "$(ls "$T/plainq/mess" 2>/dev/null | wc -l)" 1 "plain queue-add: the message is in \$PIPEMAIL_QUEUE"

# conf_dir() and queue_dir() from lib, in a setgid process and not
if [ -x "$UNIT/dirs.t" ]; then
	cp "$UNIT/dirs.t" "$T/dirs-setgid"
	chgrp "$g" "$T/dirs-setgid"
	chmod 2755 "$T/dirs-setgid"
	# set-id, a sanitizer build ignores ASAN_OPTIONS and its leak check
	# cannot run at exit (not dumpable): judge the TAP lines, not the status
	PIPEMAIL_QUEUE="$T/evil" PIPEMAIL_CONF="$T/evilconf" asnobody "$T/dirs-setgid" > "$T/tap" 2>/dev/null
	is "$(grep -c '^not ok' "$T/tap")/$(grep -c '^ok' "$T/tap")" 0/3 \
		"setgid unit: every check passes ($(grep -v '^ok' "$T/tap" | tr '\n' ' '))"
	grep -q '^ok .* set-id: PIPEMAIL_CONF ignored' "$T/tap"; ok $? "setgid: conf_dir() ignores PIPEMAIL_CONF"
	grep -q '^ok .* set-id: PIPEMAIL_QUEUE ignored' "$T/tap"; ok $? "setgid: queue_dir() ignores PIPEMAIL_QUEUE"
	# run by root (gid 0, so set-id too): root may write anywhere, and
	# queue-run (root) queues bounces through queue-add: the overrides
	# count, as queue-add(8) says
	PIPEMAIL_QUEUE="$T/evil" PIPEMAIL_CONF="$T/evilconf" "$T/dirs-setgid" > "$T/tap" 2>/dev/null
	grep -q '^ok .* set-id by root: PIPEMAIL_CONF counts' "$T/tap"; ok $? "setgid run by root: conf_dir() honours PIPEMAIL_CONF"
	grep -q '^ok .* set-id by root: PIPEMAIL_QUEUE counts' "$T/tap"; ok $? "setgid run by root: queue_dir() honours PIPEMAIL_QUEUE ($(grep -v '^ok' "$T/tap" | tr '\n' ' '))"
	cp "$UNIT/dirs.t" "$T/dirs-plain"
	PIPEMAIL_QUEUE="$T/evil" PIPEMAIL_CONF="$T/evilconf" asnobody "$T/dirs-plain" > "$T/tap" 2>&1
	is $? 0 "plain unit: the overrides count ($(grep -v '^ok' "$T/tap" | tr '\n' ' '))"
else
	diag "no $UNIT/dirs.t (make units)"
	ok 1 "# skip unit program absent"
fi
done_testing
