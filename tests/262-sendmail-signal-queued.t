#!/bin/sh
# sendmail: a signal (a caller's timeout, SIGTERM, SIGHUP) that arrives
# once the envelope is written, while the queue program commits, must not
# kill sendmail: the message may be queued, and a failure reported then is
# retried by the caller, queueing it twice. The queue program's status is
# the answer. A signal before the envelope is complete still ends
# sendmail, and nothing is queued.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
# a queue program that, with the whole envelope read, waits for "go"
cat > "$T/slowq" <<'EOQ'
#!/bin/sh
: > "$FAKEQ_DIR/started"
cat > "$FAKEQ_DIR/msg"
cat <&1 > "$FAKEQ_DIR/env"
: > "$FAKEQ_DIR/ready"
i=0
while [ ! -e "$FAKEQ_DIR/go" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
exit ${FAKEQ_EXIT:-0}
EOQ
chmod +x "$T/slowq"
waitfor() { i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done; }

for sig in TERM HUP; do
	rm -f "$T/q/"*
	printf 'Subject: x\n\nbody\n' | QMAILQUEUE="$T/slowq" $BIN/sendmail -f s@x.test r@x.test &
	pid=$!
	waitfor "$T/q/ready"
	kill -$sig $pid
	: > "$T/q/go"
	wait $pid
	is "$?" 0 "SIG$sig while the queue program commits: exit 0, as it queued"
done
rm -f "$T/q/"*
printf 'Subject: x\n\nbody\n' | QMAILQUEUE="$T/slowq" FAKEQ_EXIT=53 $BIN/sendmail -f s@x.test r@x.test 2>/dev/null &
pid=$!
waitfor "$T/q/ready"
kill -TERM $pid
: > "$T/q/go"
wait $pid
is "$?" 75 "SIGTERM, then the queue program fails: its failure reported (EX_TEMPFAIL)"

# a signal while the body is still coming: sendmail ends, no envelope
rm -f "$T/q/"*
: > "$T/q/go"
mkfifo "$T/in"
QMAILQUEUE="$T/slowq" $BIN/sendmail -f s@x.test r@x.test < "$T/in" 2>/dev/null &
pid=$!
exec 3> "$T/in"
printf 'Subject: x\n\npart of the body\n' >&3
waitfor "$T/q/started"
kill -TERM $pid
wait $pid
rc=$?
exec 3>&-
is "$rc" 143 "SIGTERM in the middle of the body: sendmail ends"
waitfor "$T/q/ready"
[ -e "$T/q/ready" ] && [ ! -s "$T/q/env" ]; ok $? "and the queue program got no envelope: nothing queued"
done_testing
