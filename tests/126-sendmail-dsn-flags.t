#!/bin/sh
# sendmail: -N, -R and -V are the DSN requests of Postfix's and sendmail's
# sendmail (RFC 3461 NOTIFY, RET, ENVID). They reach the queue program in
# PIPEMAIL_DSN as smtp-recv passes them, so `sendmail -N never` sends no
# bounce; they were accepted and dropped. A bad value is a usage error (64).
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/conf" "$T/q"
echo host.test > "$T/conf/me"
cat > "$T/fakeq" <<'EOQ'
#!/bin/sh
cat > "$FAKEQ_DIR/msg"
cat <&1 > "$FAKEQ_DIR/env"
if [ "${PIPEMAIL_DSN+set}" = set ]; then printf '%s' "$PIPEMAIL_DSN" > "$FAKEQ_DIR/dsn"; fi
exit 0
EOQ
chmod +x "$T/fakeq"
PIPEMAIL_CONF="$T/conf" QMAILQUEUE="$T/fakeq" FAKEQ_DIR="$T/q"
export PIPEMAIL_CONF QMAILQUEUE FAKEQ_DIR
send() { rm -f "$T/q/dsn" "$T/q/env"; printf 'Subject: x\n\nhi\n' | $BIN/sendmail "$@" 2>"$T/err"; }
dsn() { if [ -f "$T/q/dsn" ]; then tr '\n' '|' < "$T/q/dsn"; else echo unset; fi; }

send r@x.test
is "$(dsn)" unset "no DSN option: no PIPEMAIL_DSN"
PIPEMAIL_DSN="$(printf 'RET=FULL\nNOTIFY=SUCCESS')" send r@x.test
is "$(dsn)" unset "no DSN option: an inherited PIPEMAIL_DSN is dropped (as before)"
send -N never r@x.test s@y.test
is "$?" 0 "-N never: exit 0"
is "$(dsn)" "|NOTIFY=NEVER|NOTIFY=NEVER|" "-N never: NOTIFY=NEVER for each recipient"
send -Nsuccess,delay r@x.test
is "$(dsn)" "|NOTIFY=SUCCESS,DELAY|" "-Nsuccess,delay: attached value, both kinds"
send -N 'delay, failure' r@x.test
is "$(dsn)" "|NOTIFY=FAILURE,DELAY|" "-N 'delay, failure' (Postfix's default, with a blank)"
send -R hdrs r@x.test
is "$(dsn)" "RET=HDRS||" "-R hdrs: RET=HDRS"
send -R FULL -V 'job 42+x=y' -N failure r@x.test
is "$(dsn)" "RET=FULL ENVID=job+2042+2Bx+3Dy|NOTIFY=FAILURE|" "-R, -V (xtext-encoded) and -N together"
printf 'To: a@x.test, b@x.test\n\nhi\n' > "$T/m"
rm -f "$T/q/dsn"; $BIN/sendmail -t -N never < "$T/m"
is "$(dsn)" "|NOTIFY=NEVER|NOTIFY=NEVER|" "-t -N never: each recipient from the header"

for bad in "-N nevr" "-N never,failure" "-N ," "-R all" "-V $(printf 'a\303\251')" "-V $(head -c 101 /dev/zero | tr '\0' e)"; do
	# shellcheck disable=SC2086
	send $bad r@x.test
	is "$?" 64 "'$bad': usage error"
	[ -f "$T/q/env" ]; is "$?" 1 "'$bad': nothing queued"
done
done_testing
