#!/bin/sh
# make run started again with other ports (PIPEMAIL_RUN_PORTS, as README.md
# offers when the defaults are taken): the demo's routes file must follow
# the last port, where nothing of ours listens. It kept the first start's
# port, so mail for other domains went to whatever listened there now.
# A routes file the user edited (a smarthost) is kept as it is.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
for c in s6-svscan s6-svscanctl tcpserver openssl $PY; do
	command -v $c >/dev/null || skip_all "no $c"
done

R=$T/run
runpid=
stop_run() {
	[ -n "$runpid" ] || return 0
	s6-svscanctl -t "$R/service" 2>/dev/null
	i=0
	while kill -0 "$runpid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	runpid=
}
trap 'stop_run; _cleanup' EXIT

# start_run SMTP OUT: scripts/run with the SMTP port and OUT for the
# routes (the other four ports fresh), until the SMTP port answers
start_run() {
	PIPEMAIL_RUN=$R PIPEMAIL_RUN_PORTS="$1 $(free_port) $(free_port) $(free_port) $(free_port) $2" \
		PIPEMAIL_BIN=$BIN sh "$top/scripts/run" > "$T/out" 2>&1 &
	runpid=$!
	_pids="$_pids $runpid"
	i=0
	until $PY -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		"$1" 2>/dev/null || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
}
routes() { grep -v '^#' "$R/conf/routes" 2>/dev/null; }

out1=$(free_port)
start_run "$(free_port)" "$out1"
is "$(routes)" "*:[127.0.0.1]:$out1" "first start: other domains to the idle port"
stop_run

out2=$(free_port)
start_run "$(free_port)" "$out2"
is "$(routes)" "*:[127.0.0.1]:$out2" "started again with another port: the route follows it"
stop_run

printf '*:[192.0.2.1]:587 tls=verify\n' > "$R/conf/routes"
start_run "$(free_port)" "$(free_port)"
is "$(cat "$R/conf/routes")" "*:[192.0.2.1]:587 tls=verify" "a routes file the user wrote is kept"
stop_run
done_testing
