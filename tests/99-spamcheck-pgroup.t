#!/bin/sh
# spamcheck -p/-q when the next program is a shell that starts the real
# one (-p sh -c '... deliver-maildir ...'), or is setgid (queue-add may
# be): if spamcheck dies (smtp-recv SIGKILLs it past the data timeout)
# or fails mid-message, the program sh started (a grandchild) must not
# see end of input and commit the truncated message. The parent-death
# signal reached only sh, and a setgid program not even that: the next
# program now runs in its own process group, under a guard that kills
# the group when spamcheck dies, and spamcheck kills the group when it
# fails.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

# a slow commit script: starts, waits a moment (a busy disk), then reads
# the message to its end and commits
cat > "$T/next" <<EOF2
#!/bin/sh
echo started > "$T/started"
sleep 1
cat > "$T/got.msg"
echo committed > "$T/commits"
EOF2
chmod +x "$T/next"
printf 'Fa@example.test\0Tb@example.test\0\0' > "$T/env"
{ printf 'Subject: big\n\n'; i=0; while [ $i -lt 3000 ]; do printf '%01000d\n' $i; i=$((i + 1)); done; } > "$T/big"

wait_for() { # wait_for FILE TENTHS: 0 once FILE exists
	_i=0
	while [ $_i -lt "$2" ] && [ ! -e "$1" ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$1" ]
}
# the script is a grandchild: "; :" keeps sh from exec'ing it
killed() { # killed NAME SPAMCHECK-ARGS...: SIGKILL spamcheck once the script started
	name=$1; shift
	rm -f "$T/started" "$T/commits"
	"$SC" -m 4096 -d "$T/none.db" "$@" < "$T/big" 1< "$T/env" 2>/dev/null &
	pid=$!
	wait_for "$T/started" 100
	ok $? "$name: the script started"
	kill -9 $pid
	wait $pid 2>/dev/null
	# without the fix the script commits about 1 s after it started
	wait_for "$T/commits" 20
	[ $? -ne 0 ]
	ok $? "$name: spamcheck SIGKILLed: the script did not commit a truncated message"
}
killed "-p sh -c" -p sh -c "\"$T/next\"; :"
killed "-q sh -c" -q sh -c "\"$T/next\"; :"

# a setgid next program (the kernel clears the parent-death signal at its exec)
if [ "$(id -u)" = 0 ] && cp /usr/bin/env "$T/sgenv" && chgrp 65534 "$T/sgenv" && chmod 2755 "$T/sgenv"; then
	killed "-q setgid" -q "$T/sgenv" "$T/next"
else
	skip() { ok 0 "# SKIP $1"; }
	skip "setgid: needs root"; skip "setgid: needs root"
fi

# the whole message still reaches the grandchild when nothing fails
rm -f "$T/commits" "$T/got.msg"
"$SC" -m 4096 -d "$T/none.db" -p sh -c "\"$T/next\"; :" < "$T/big" > /dev/null 2>&1
is $? 0 "-p sh -c: a whole message: exit 0"
tail -c 100000 "$T/got.msg" > "$T/a"; tail -c 100000 "$T/big" > "$T/b"
[ -e "$T/commits" ] && cmp -s "$T/a" "$T/b"
ok $? "-p sh -c: the grandchild got the whole message and committed"
"$SC" -m 4096 -d "$T/none.db" -p sh -c 'exit 7; :' < "$T/big" > /dev/null 2>&1
is $? 7 "-p sh -c: the program's exit code is spamcheck's"
"$SC" -m 4096 -d "$T/none.db" -p sh -c 'kill -9 $$' < "$T/big" > /dev/null 2>&1
is $? 111 "-p: a program killed by a signal is a failure (111)"

# spamcheck fails mid-message: reading the rest of the message fails (EIO
# injected with strace on spamcheck alone): the group is killed
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
	cat > "$T/next2" <<EOF2
#!/bin/sh
echo started > "$T/started"
cat > "$T/got.msg"
echo committed > "$T/commits"
EOF2
	chmod +x "$T/next2"
	for mode in p q; do
		rm -f "$T/started" "$T/commits"
		strace -o "$T/trace" -e trace=read "$SC" -m 4096 -d "$T/none.db" -$mode sh -c "\"$T/next2\"; :" \
			< "$T/big" 1< "$T/env" 2>/dev/null
		k=$(awk '/^read\(/ { n++; if ($0 ~ /^read\(0,/ && ++z == 3) { print n; exit } }' "$T/trace")
		rm -f "$T/started" "$T/commits"
		strace -o /dev/null -e trace=read -e inject=read:error=EIO:when=${k:-9999}+ \
			"$SC" -m 4096 -d "$T/none.db" -$mode sh -c "\"$T/next2\"; :" < "$T/big" 1< "$T/env" 2>"$T/err"
		rc=$?
		[ $mode = q ] && want=54 || want=111
		is $rc $want "-$mode sh -c: read error mid-message is temporary ($want)"
		wait_for "$T/commits" 10
		[ $? -ne 0 ]
		ok $? "-$mode sh -c: failed mid-message: the grandchild did not commit"
	done
else
	ok 0 "# SKIP strace cannot trace here"; ok 0 "# SKIP"; ok 0 "# SKIP"; ok 0 "# SKIP"
fi
# the guard slow to act on spamcheck's death (its kill(2) delayed 2.5 s
# by strace, as a loaded machine may leave it unscheduled): the script
# must not see end of input meanwhile, so the guard holds the write end of
# the message pipe until spamcheck says the message is whole
for mode in p q; do
	rm -f "$T/started" "$T/commits"
	"$SC" -m 4096 -d "$T/none.db" -$mode sh -c "\"$T/next\"; :" < "$T/big" 1< "$T/env" 2>/dev/null &
	pid=$!
	wait_for "$T/started" 100
	guard=$(pgrep -P $pid | head -n 1)
	if [ -z "$guard" ] || ! command -v strace >/dev/null 2>&1; then
		kill -9 $pid; wait $pid 2>/dev/null
		ok 0 "# SKIP no guard or no strace"
		continue
	fi
	strace -o "$T/gtrace" -p "$guard" -e trace=kill -e inject=kill:delay_enter=2500000 2>/dev/null &
	st=$!
	wait_for "$T/gtrace" 20 && sleep 0.3
	if ! grep -q . "$T/gtrace" 2>/dev/null && ! kill -0 $st 2>/dev/null; then
		kill -9 $pid; wait $pid 2>/dev/null
		ok 0 "# SKIP strace cannot attach here"
		continue
	fi
	kill -9 $pid
	wait $pid 2>/dev/null
	wait_for "$T/commits" 20   # the script reads on 1 s after it started
	[ $? -ne 0 ]
	ok $? "-$mode: spamcheck SIGKILLed, its guard slow: no truncated commit"
	wait $st 2>/dev/null
done
sleep 1   # orphaned sleep(1)s of killed scripts end before the directory goes
done_testing
