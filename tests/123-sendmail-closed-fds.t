#!/bin/sh
# sendmail run with standard output or standard error closed (a daemon that
# closed them, `>&-` in a script, some cron setups) still queues: the pipes
# to the queue program must not land on descriptors 1 or 2, where moving
# them into place closed the envelope before the queue program could read
# it. Postfix's sendmail opens /dev/null on a closed 0, 1 or 2 for this.
. "$(dirname "$0")/lib.sh"
export PIPEMAIL_QUEUE="$T/queue"
unset QMAILQUEUE
mkdir -p "$T/conf"
echo host.test > "$T/conf/me"
export PIPEMAIL_CONF="$T/conf"
PATH="$BIN:$PATH"
export PATH
queued() { find "$PIPEMAIL_QUEUE/mess" -type f 2>/dev/null | wc -l; }

n=$(queued)
printf 'Subject: a\n\nbody\n' | $BIN/sendmail r@x.test
is "$?" 0 "all descriptors open: queued"
is "$(($(queued) - n))" 1 "one message in the queue"

n=$(queued)
printf 'Subject: b\n\nbody\n' | $BIN/sendmail r@x.test >&- 2>"$T/err1"
is "$?" 0 "standard output closed: exit 0"
is "$(($(queued) - n))" 1 "standard output closed: the message is queued"
[ -s "$T/err1" ]; is "$?" 1 "standard output closed: nothing on standard error"

n=$(queued)
printf 'Subject: c\n\nbody\n' | $BIN/sendmail r@x.test 2>&-
is "$?" 0 "standard error closed: exit 0"
is "$(($(queued) - n))" 1 "standard error closed: the message is queued"

n=$(queued)
printf 'Subject: d\n\nbody\n' | $BIN/sendmail r@x.test >&- 2>&-
is "$?" 0 "standard output and error closed: exit 0"
is "$(($(queued) - n))" 1 "standard output and error closed: the message is queued"

# the envelope of the last one is whole: one recipient, the right sender
f=$(find "$PIPEMAIL_QUEUE/mess" -type f -newer "$T/err1" | head -n 1)
[ -n "$f" ] && head -c 4096 "$f" | tr '\0' '\n' | grep -qx 'Tr@x.test'; ok $? "its envelope names the recipient"

# stdin closed: no message to read, an I/O error as before (never an empty message queued)
n=$(queued)
$BIN/sendmail r@x.test <&- 2>"$T/err0"
is "$?" 74 "standard input closed: EX_IOERR"
is "$(($(queued) - n))" 0 "standard input closed: nothing queued"
done_testing
