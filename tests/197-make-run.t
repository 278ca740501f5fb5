#!/bin/sh
# make run, as README.md tells a new user to try it: scripts/run on free
# ports (PIPEMAIL_RUN_PORTS) in a throwaway state directory. Mail to demo
# through the MX port lands in the Maildir (the demo .qmail runs spamcheck
# as the mailbox owner), GTUBE gets 554 5.7.1, mail for another domain
# from submission waits in the queue (the demo routes send it where
# nothing listens, never out to the Internet), POP3S reads the mailbox,
# and s6-svscanctl -t leaves no process and no listener behind.
. "$(dirname "$0")/lib.sh"
for c in s6-svscan s6-svscanctl tcpserver openssl; do
	command -v $c >/dev/null || skip_all "no $c"
done
PY=/usr/bin/python3
[ -x $PY ] || skip_all "no $PY"

ports= n=0
while [ "$(echo $ports | wc -w)" -lt 6 ] && [ $n -lt 50 ]; do   # six different ones
	p=$(free_port) n=$((n + 1))
	case " $ports " in *" $p "*) ;; *) ports="$ports $p";; esac
done
ports=${ports# }
set -- $ports
smtp=$1 sub=$2 pop3s=$5 out=$6
R=$T/run
stopped=
stop_run() {
	[ -n "$stopped" ] && return
	stopped=1
	s6-svscanctl -t "$R/service" 2>/dev/null
	i=0
	while kill -0 "$runpid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
}
trap 'stop_run; _cleanup' EXIT

PIPEMAIL_RUN=$R PIPEMAIL_RUN_PORTS=$ports PIPEMAIL_BIN=$BIN sh "$top/scripts/run" > "$T/out" 2>&1 &
runpid=$!
_pids="$_pids $runpid"

listening() { $PY -c 'import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), 1).close()' "$@" 2>/dev/null; }
i=0
until listening $1 $2 $3 $4 $5 || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
listening $1 $2 $3 $4 $5
ok $? "all five services listen ($ports)"
grep -q "127.0.0.1:$smtp .*--port $smtp" "$T/out"
ok $? "the banner names the SMTP port it was given"
is "$(grep -v '^#' "$R/conf/routes" 2>/dev/null)" "*:[127.0.0.1]:$out" "routes: other domains to the idle port"

CA=$R/conf/tls/cert.pem
$PY - "$smtp" "$sub" "$CA" > "$T/smtp" 2>&1 <<'EOF'
import smtplib, ssl, sys
smtp, sub, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def send(s, frm, to, body):
    try:
        s.sendmail(frm, [to], "Subject: t\r\n\r\n" + body + "\r\n")
        print("sent", to)
    except smtplib.SMTPDataError as e:
        print("data", e.smtp_code, e.smtp_error.decode()[:5])
with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
    send(s, "a@example.org", "demo@example.test", "hello demo")
with smtplib.SMTP("127.0.0.1", smtp, timeout=20) as s:
    send(s, "a@example.org", "demo@example.test",
         "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")
with smtplib.SMTP("localhost", sub, timeout=20) as s:
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.login("demo@example.test", "demo")
    send(s, "demo@example.test", "someone@remote.example", "to another domain")
EOF
is "$(cat "$T/smtp")" "sent demo@example.test
data 554 5.7.1
sent someone@remote.example" "MX: demo's mail queued, GTUBE refused 554 5.7.1; submission: remote mail queued"

new=$R/mail/demo@example.test/new
i=0
until [ -n "$(ls -A "$new" 2>/dev/null)" ] || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
grep -l 'hello demo' "$new"/* > /dev/null 2>&1
ok $? "delivered into demo's Maildir through its .qmail"
grep -q '^X-Spam-Status: ' "$new"/* 2>/dev/null
ok $? "spamcheck scored it on the way"

i=0
while ! PIPEMAIL_QUEUE=$R/queue "$BIN/queue-list" 2>&1 | grep -q 'pending <someone@remote.example> attempts 1' &&
      [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
PIPEMAIL_QUEUE=$R/queue "$BIN/queue-list" > "$T/list" 2>&1
grep -q 'pending <someone@remote.example> attempts 1 .*4\.4\.1 unable to connect' "$T/list"
ok $? "queue-list: the remote mail waits, refused by the idle port ($(tr '\n' ' ' < "$T/list"))"

$PY - "$pop3s" "$CA" > "$T/pop" 2>&1 <<'EOF'
import poplib, ssl, sys
p = poplib.POP3_SSL("localhost", int(sys.argv[1]), timeout=20,
                    context=ssl.create_default_context(cafile=sys.argv[2]))
p.user("demo@example.test"); p.pass_("demo")
print(b"\n".join(p.retr(1)[1]).count(b"hello demo")); p.quit()
EOF
is "$(cat "$T/pop")" 1 "POP3S with the printed certificate as CA reads it"

stop_run
kill -0 "$runpid" 2>/dev/null
is $? 1 "s6-svscanctl -t: scripts/run has exited"
# s6-supervise runs in its service directory; the rest name $R in argv
for p in /proc/[0-9]*; do
	case "$(readlink "$p/cwd" 2>/dev/null)" in "$R"/*) echo "${p#/proc/} cwd";; esac
	tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -qF "$R/" && echo "${p#/proc/} $(tr '\0' ' ' < "$p/cmdline")"
done > "$T/ps"
is "$(cat "$T/ps")" "" "no process of the run is left"
listening $1 || listening $2 || listening $3 || listening $4 || listening $5
is $? 1 "nothing listens on its ports"
done_testing
