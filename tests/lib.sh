# TAP helpers for shell tests:  . "$(dirname "$0")/lib.sh"
# Gives: ok, is, diag, skip_all, done_testing; $BIN (commands), $T (a
# throwaway directory, removed at exit with every process started by bg).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PIPEMAIL_BIN:-$top/bin}
_n=0 _fail=0 _pids=
T=$(mktemp -d /tmp/pmtest.XXXXXX)
chmod 755 "$T"
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

ok() { # ok CONDITION-EXIT-STATUS NAME   e.g.  cmp a b; ok $? "same"
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi
}
is() { # is GOT WANT NAME
	_n=$((_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_n - $3"
	else echo "not ok $_n - $3"; echo "#   got '$1'"; echo "#   want '$2'"; _fail=$((_fail + 1)); fi
}
diag() { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$_n"; [ "$_fail" -eq 0 ]; exit $?; }
bg() { "$@" & _pids="$_pids $!"; }   # start a process the test stops at exit

# uid/gid that owns test mailboxes: nobody when root, else ourselves
if [ "$(id -u)" = 0 ]; then MAILUID=65534 MAILGID=65534; else MAILUID=$(id -u) MAILGID=$(id -g); fi
free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
corpus_dir() { # the shared corpus, or empty when this clone has none beside it
	for d in "$top/../shared/corpus/train" "${PIPEMAIL_CORPUS:-}"; do
		[ -n "$d" ] && [ -d "$d/ham" ] && { (cd "$d" && pwd); return; }
	done
}

# sendmail tests: a control directory ($T/conf, me = host.test) and a fake
# queue program as QMAILQUEUE that keeps the last message in $T/q/msg and
# its envelope in $T/q/env, exiting $FAKEQ_EXIT (default 0)
sendmail_fakeq() {
	mkdir -p "$T/conf" "$T/q"
	PIPEMAIL_CONF="$T/conf"
	export PIPEMAIL_CONF
	echo "host.test" > "$T/conf/me"
	cat > "$T/fakeq" <<'EOQ'
#!/bin/sh
# a fake queue program: message from fd 0, envelope from fd 1
cat > "$FAKEQ_DIR/msg"
cat <&1 > "$FAKEQ_DIR/env"
exit ${FAKEQ_EXIT:-0}
EOQ
	chmod +x "$T/fakeq"
	QMAILQUEUE="$T/fakeq" FAKEQ_DIR="$T/q"
	export QMAILQUEUE FAKEQ_DIR
}
