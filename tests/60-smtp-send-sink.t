#!/bin/sh
# smtp-send through the routes file to Postfix's smtp-sink: results on
# stdout, exit codes, the bytes that arrive (CRLF, dot-stuffing, no bare
# CR/LF), with and without PIPELINING, ESMTP, and refused commands.
. "$(dirname "$0")/lib.sh"
SINK=/usr/sbin/smtp-sink
SINKUSER=; [ "$(id -u)" = 0 ] && SINKUSER="-u nobody"   # smtp-sink insists on -u as root
[ -x $SINK ] || skip_all "no $SINK (Debian package postfix)"

mkdir -p "$T/conf" "$T/sink" && chmod 777 "$T/sink"
export PIPEMAIL_CONF="$T/conf"
echo "mx.example.test" > "$T/conf/me"

sinkpids=
start_sink() { # start_sink PORT OPTIONS...
	p=$1; shift
	rm -f "$T/sink/"*
	$SINK $SINKUSER -d "$T/sink/%M." "$@" 127.0.0.1:$p 10 >"$T/sink.log" 2>&1 &
	sinkpids="$sinkpids $!"; _pids="$_pids $!"
	for i in $(seq 50); do
		/usr/bin/python3 -c "import socket;socket.create_connection(('127.0.0.1',$p),1).close()" 2>/dev/null && return
		sleep 0.1
	done
}
stop_sinks() { for p in $sinkpids; do kill $p 2>/dev/null; wait $p 2>/dev/null; done; sinkpids=; }

port=$(free_port)
printf '# test routes\nexample.org:[127.0.0.1]:%s\n.sub.example.org:127.0.0.1:%s\n' $port $port > "$T/conf/routes"
start_sink $port

printf 'Subject: t\n\n.dot first\nbare\rcr\r\nmixed\r\r\nlast line without newline' > "$T/msg"
out=$($BIN/smtp-send -f a@b.test example.org x@example.org y@example.org < "$T/msg" 2>"$T/err"); rc=$?
is "$rc" 0 "exit 0 when every recipient is accepted"
is "$(echo "$out" | cut -d' ' -f1-4)" "ok x@example.org 2.0.0 127.0.0.1
ok y@example.org 2.0.0 127.0.0.1" "one ok line per recipient, in order"
f=$(ls "$T/sink/" | head -1)
sed -n '/^Subject: t/,$p' "$T/sink/$f" > "$T/got"
# smtp-sink stores lines with LF and ends its dump with an empty line;
# ".." became "." again, the lone CR became a line end
printf 'Subject: t\n\n.dot first\nbare\ncr\nmixed\n\nlast line without newline\n\n' > "$T/want"
cmp -s "$T/got" "$T/want"; ok $? "message arrives line by line, dot-stuffing undone by the peer"
grep -q 'X-Mail-Args: <a@b.test>' "$T/sink/$f"; ok $? "envelope sender passed"

# a pipe on stdin is spooled; a subdomain route matches; the log line is there
printf 'Subject: pipe\n\nbody\n' | $BIN/smtp-send -f a@b.test a.sub.example.org z@a.sub.example.org > "$T/out" 2>"$T/err"
is "$?" 0 "stdin pipe spooled and delivered through a .suffix route"
grep -q 'event=session host=127.0.0.1 ip=127.0.0.1 tls=no result=done ok=1' "$T/err"; ok $? "session logged"

# no PIPELINING, no ESMTP (HELO fallback)
stop_sinks; start_sink $port -p
$BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" > "$T/out" 2>&1
is "$?" 0 "delivered without PIPELINING"
stop_sinks; start_sink $port -e
$BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" > "$T/out" 2>&1
is "$?" 0 "delivered to a HELO-only peer"
grep -q 'X-Client-Proto: SMTP' "$T/sink/"* ; ok $? "peer saw HELO, not EHLO"

# refusals: RCPT soft, RCPT hard, DATA hard, MAIL soft
stop_sinks; start_sink $port -r rcpt
out=$($BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" 2>/dev/null); rc=$?
is "$rc" 111 "RCPT 4xx: exit 111"
is "$(echo "$out" | cut -c1-20)" "temp x@example.org 4" "RCPT 4xx: temp"
stop_sinks; start_sink $port -f rcpt
out=$($BIN/smtp-send -f a@b.test example.org x@example.org y@example.org < "$T/msg" 2>/dev/null); rc=$?
is "$rc" 100 "RCPT 5xx: exit 100"
is "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" "perm perm " "RCPT 5xx: perm for each"
stop_sinks; start_sink $port -f data
out=$($BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" 2>/dev/null)
is "$(echo "$out" | cut -d' ' -f1)" "perm" "DATA 5xx: perm"
stop_sinks; start_sink $port -r mail
out=$($BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" 2>/dev/null)
is "$(echo "$out" | cut -d' ' -f1)" "temp" "MAIL 4xx: temp"
stop_sinks; start_sink $port -q dot
out=$($BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" 2>/dev/null); rc=$?
is "$rc" 111 "peer drops after the final dot: exit 111"
is "$(echo "$out" | cut -d' ' -f1)" "temp" "peer drops after the final dot: temp"
stop_sinks

# nobody listening: temp, host named
out=$($BIN/smtp-send -f a@b.test example.org x@example.org < "$T/msg" 2>/dev/null); rc=$?
is "$rc" 111 "connection refused: exit 111"
case "$out" in "temp x@example.org 4.4.1 127.0.0.1 unable to connect: Connection refused") r=0;; *) r=1; diag "$out";; esac
ok $r "connection refused: temp with the reason"

# usage and bad addresses
$BIN/smtp-send example.org < /dev/null > /dev/null 2>&1
is "$?" 100 "usage error: exit 100"
start_sink $port
out=$($BIN/smtp-send -f a@b.test example.org 'bad<x>@example.org' ok@example.org < "$T/msg" 2>/dev/null); rc=$?
is "$rc" 111 "one unusable recipient, one ok: exit 111"
is "$(echo "$out" | cut -d' ' -f1,3 | tr '\n' ' ')" "perm 5.1.3 ok 2.0.0 " "unusable recipient refused before the wire"
stop_sinks
done_testing
