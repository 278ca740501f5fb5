#!/bin/sh
# spamcheck -q killed mid-message (smtp-recv SIGKILLs its queue program
# when it outlives the data timeout): the next program must not go on to
# see end of input and commit the truncated message, since the envelope is
# already in its pipe and smtp-recv answers 451 (the client retries: a
# truncated copy plus a whole one). It dies with spamcheck.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

# a slow queue program: starts, waits a moment (a busy disk), then reads
# the message to its end and commits with the envelope
cat > "$T/next" <<EOF
#!/bin/sh
echo started > "$T/started"
sleep 1
cat > "$T/got.msg"
cat <&1 > "$T/got.env"
echo committed > "$T/commits"
EOF
chmod +x "$T/next"
printf 'Fa@example.test\0Tb@example.test\0\0' > "$T/env"
{ printf 'Subject: big\n\n'; i=0; while [ $i -lt 3000 ]; do printf '%01000d\n' $i; i=$((i + 1)); done; } > "$T/big"

"$SC" -m 4096 -d "$T/none.db" -q "$T/next" < "$T/big" 1< "$T/env" 2>/dev/null &
pid=$!
i=0
while [ $i -lt 100 ] && [ ! -e "$T/started" ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$T/started" ]
ok $? "the next program started"
kill -9 $pid
wait $pid 2>/dev/null
# without the fix the next program commits about 1 s after it started
i=0
while [ $i -lt 40 ] && [ ! -e "$T/commits" ]; do sleep 0.05; i=$((i + 1)); done
[ ! -e "$T/commits" ]
ok $? "the next program did not commit a truncated message"
sleep 1   # its sleep(1) child, orphaned, ends before the directory goes
done_testing
