#!/bin/sh
# Concurrent mailuser runs never lose an update (the control directory's
# lock), and a reader looking users up while the tables are rewritten
# never sees a missing or half-written database.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"
N=40
[ -n "${PIPEMAIL_SANITIZED:-}" ] && N=20
"$M" domain add example.test
echo pw | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/fixed" fixed@example.test; ok $? "first user"

# a reader that runs until told to stop (bounded by a count as well)
(
	i=0
	while [ ! -e "$T/stop" ] && [ $i -lt 5000 ]; do
		"$M" check fixed@example.test >/dev/null 2>>"$T/reader.err" || echo "$?" >>"$T/reader.fail"
		i=$((i + 1))
	done
	echo $i >"$T/reader.count"
) &
reader=$!

pids=
i=0
while [ $i -lt $N ]; do
	(echo "pw$i" | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/u$i" "u$i@example.test" 2>>"$T/add.err"
	 echo $? >"$T/rc.$i") &
	pids="$pids $!"
	i=$((i + 1))
done
# aliases and rebuilds in the same storm
j=0
while [ $j -lt 5 ]; do
	("$M" alias add "a$j@example.test" fixed@example.test && "$M" rebuild) 2>>"$T/add.err" &
	pids="$pids $!"
	j=$((j + 1))
done
for p in $pids; do wait "$p"; done
touch "$T/stop"
wait "$reader"

bad=0
i=0
while [ $i -lt $N ]; do
	[ "$(cat "$T/rc.$i")" = 0 ] || bad=$((bad + 1))
	i=$((i + 1))
done
is "$bad" 0 "all $N concurrent adds exited 0"
[ -s "$T/add.err" ] && diag "$(head -5 "$T/add.err")"
is "$("$M" list | wc -l | tr -d ' ')" $((N + 1)) "every user is in the users file"
missing=0
i=0
while [ $i -lt $N ]; do
	cdb -q "$C/users.cdb" "u$i@example.test" >/dev/null || missing=$((missing + 1))
	i=$((i + 1))
done
is "$missing" 0 "every user is in users.cdb"
is "$("$M" alias list | wc -l | tr -d ' ')" 5 "every alias landed"
test -e "$T/reader.fail"; ok $((!$?)) "the reader never failed ($(cat "$T/reader.count") lookups)"
[ -e "$T/reader.fail" ] && diag "$(sort "$T/reader.fail" | uniq -c)" && diag "$(head -3 "$T/reader.err")"
ls "$C" | grep -q '\.tmp$'; ok $((!$?)) "no temporary files left"
done_testing
