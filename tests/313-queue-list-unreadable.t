#!/bin/sh
# queue-list retry/delete/bounce by someone who may not read the message
# (a user outside the queue's group, queue-run not listening): the open
# fails with EACCES. That is "unable to open ...: Permission denied",
# exit 111 as the man page's "the queue cannot be read", not "no such
# message in the queue" (100), which made an admin's script take the
# message for gone; and "retry all" does not say 0 having done nothing.
. "$(dirname "$0")/lib.sh"
Q="$T/q"
export PIPEMAIL_QUEUE="$Q"
printf 'Subject: x\n\nbody\n' > "$T/msg"
printf 'Fs@x.test\0Tr@remote.test\0\0' > "$T/env"
$BIN/queue-add 0<"$T/msg" 1<"$T/env"
ok $? "queued"
id=$(ls "$Q/mess")
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || skip_all "no setpriv"
	# the directories open to all, the message file root's 0640
	chmod 755 "$Q" "$Q/mess" "$Q/state" "$Q/new"
	asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	chmod 000 "$Q/mess/$id"
	asuser() { "$@"; }
fi
for act in bounce delete retry; do
	asuser $BIN/queue-list $act "$id" 2>"$T/err"
	is $? 111 "$act of an unreadable message: 111"
	grep -q "unable to open $id: Permission denied" "$T/err"
	ok $? "$act says why"
	grep -q "no such message" "$T/err"
	ok $((! $?)) "$act does not call it gone"
done
asuser $BIN/queue-list retry all 2>"$T/err"
is $? 111 "retry all of unreadable messages: 111, not 0"
grep -q "Permission denied" "$T/err"
ok $? "retry all says why"
asuser $BIN/queue-list bounce 123.456.789 2>"$T/err"
is $? 100 "an id not in the queue is still 100"
[ "$(id -u)" = 0 ] || chmod 640 "$Q/mess/$id"
$BIN/queue-list | grep -q "pending <r@remote.test>"
ok $? "the message is untouched"
done_testing
