#!/bin/sh
# sendmail finds queue-add beside itself before PATH: under cron's
# PATH=/usr/bin:/bin (pipemail in /usr/local/bin) it used to fail with
# exit 75 and no reason. A queue program that cannot be run is named on
# standard error, by sendmail and by smtp-recv (whose client hears 451).
# sendmail -bs run by a user who may not read the users database (nor
# write the queue but through queue-add) takes a local recipient and
# queues through the queue-add beside it.
. "$(dirname "$0")/lib.sh"
export PIPEMAIL_QUEUE="$T/queue"
unset QMAILQUEUE
mkdir -p "$T/conf" "$T/emptybin"
echo host.test > "$T/conf/me"
export PIPEMAIL_CONF="$T/conf"
queued() { find "$PIPEMAIL_QUEUE/mess" -type f 2>/dev/null | wc -l; }

n=$(queued)
printf 'Subject: cron\n\nbody\n' | PATH="$T/emptybin:/usr/bin:/bin" $BIN/sendmail r@x.test 2>"$T/err"
is "$?" 0 "queue-add not in PATH: found beside sendmail ($(cat "$T/err"))"
is "$(($(queued) - n))" 1 "queued"

# through a link elsewhere (/usr/sbin/sendmail -> /usr/local/bin/sendmail)
ln -s "$BIN/sendmail" "$T/emptybin/sendmail"
n=$(queued)
printf 'Subject: link\n\nbody\n' | PATH="/usr/bin:/bin" "$T/emptybin/sendmail" r@x.test 2>"$T/err"
is "$?" 0 "run through a link: queue-add found beside the real program ($(cat "$T/err"))"
is "$(($(queued) - n))" 1 "queued"

n=$(queued)
printf 'Subject: missing\n\nbody\n' | QMAILQUEUE="$T/no-such-queue-prog" $BIN/sendmail r@x.test 2>"$T/err"
is "$?" 75 "QMAILQUEUE that cannot run: exit 75"
grep -q "unable to run $T/no-such-queue-prog" "$T/err"; ok $? "and it says why: $(head -n 1 "$T/err")"
is "$(($(queued) - n))" 0 "nothing queued"
$BIN/mailuser domain add local.test || ok 1 "mailuser domain add"
printf 'HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<r@x.test>\r\nDATA\r\nQUIT\r\n' |
	RELAYCLIENT= QMAILQUEUE="$T/no-such-queue-prog" $BIN/smtp-recv >"$T/out" 2>"$T/err"
grep -q "^451 4.3.0 Unable to start the queue" "$T/out"; ok $? "smtp-recv: 451 to DATA"
grep -q "unable to run $T/no-such-queue-prog" "$T/err"; ok $? "smtp-recv says why: $(head -n 1 "$T/err")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	echo pw | $BIN/mailuser add -u 65534 -g 65534 -d "$T/mail" u@local.test >/dev/null
	chmod 0600 "$T/conf/users.cdb"
	install -d -m 0700 -o 65534 -g 65534 "$T/userq"
	printf 'EHLO x\r\nMAIL FROM:<a@local.test>\r\nRCPT TO:<u@local.test>\r\nDATA\r\nSubject: bs\r\n\r\nbody\r\n.\r\nQUIT\r\n' |
		PIPEMAIL_QUEUE="$T/userq" PATH=/usr/bin:/bin setpriv --reuid=65534 --regid=65534 --clear-groups \
		$BIN/sendmail -bs >"$T/out" 2>"$T/err"
	grep -q "^250 2.1.5" "$T/out"; ok $? "-bs as a user: the local recipient taken ($(grep '^[45]' "$T/out" | head -n 1))"
	is "$(grep -c '^250 2.0.0' "$T/out")" 1 "-bs as a user: queued"
	is "$(find "$T/userq/mess" -type f 2>/dev/null | wc -l)" 1 "in the queue"
else
	for i in 1 2 3; do ok 0 "-bs as a user # SKIP needs root and setpriv"; done
fi
done_testing
