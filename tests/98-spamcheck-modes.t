#!/bin/sh
# spamcheck's command line: a mode option (-q -p -l -k -L -X -x) combined
# with a training flag (-s -n -S -N), in either order, is a usage error
# (exit 100, the usage line), never a run of one mode that silently drops
# the other; and concurrent -L runs on one database lose no weight update.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

mkdir "$T/spam" "$T/ham"
i=0
while [ $i -lt 6 ]; do
	printf 'From: seller%d@shop.example\nSubject: cheap pills offer %d\n\nbuy cheap pills now, offer %d, click\n' $i $i $i > "$T/spam/$i"
	printf 'From: colleague%d@work.example\nSubject: meeting notes %d\n\nthe agenda for tuesday, item %d, see you\n' $i $i $i > "$T/ham/$i"
	i=$((i + 1))
done
S=$T/spam H=$T/ham

# every conflicting pair the parser allows, both orders; argv after the options
for t in s n S N; do
	for m in "q cat" "p cat" "l $S" "k" "L $S $H" "x 2 $S $H" "X $S $H $S $H"; do
		set -- $m
		opt=$1; shift
		case $opt in
		x) k=$1; shift; first="-x $k -$t"; second="-$t -x $k" ;;
		*) first="-$opt -$t"; second="-$t -$opt" ;;
		esac
		for order in "$first" "$second"; do
			rm -f "$T/db"
			# shellcheck disable=SC2086
			"$SC" -d "$T/db" $order "$@" < /dev/null > "$T/out" 2> "$T/err"
			rc=$?
			is "$rc" 100 "spamcheck $order ...: exit 100"
			grep -q '^spamcheck: usage: ' "$T/err" && [ ! -e "$T/db" ] && [ ! -s "$T/out" ]
			ok $? "spamcheck $order ...: the usage line, nothing run or trained"
		done
	done
done
# two mode options together, either order: usage too
for a in q p l k L X x; do
	for b in q p l k L X x; do
		[ $a = $b ] && continue
		fa=-$a fb=-$b
		[ $a = x ] && fa="-x 2"
		[ $b = x ] && fb="-x 2"
		rm -f "$T/db"
		# shellcheck disable=SC2086
		"$SC" -d "$T/db" $fa $fb cat "$S" "$H" < /dev/null > "$T/out" 2> "$T/err"
		rc=$?
		[ $rc = 100 ] && grep -q '^spamcheck: usage: ' "$T/err" && [ ! -e "$T/db" ] && [ ! -s "$T/out" ]
		ok $? "spamcheck $fa $fb ...: usage (exit $rc)"
	done
done
# the allowed combinations still work
printf 'Subject: x\n\ny\n' | "$SC" -d "$T/db" -S -n 2>/dev/null
is $? 0 "-S -n (a correction) is still allowed"
"$SC" -d "$T/db" -q -p cat < /dev/null > /dev/null 2>&1
is $? 100 "-q -p stays a usage error"
# concurrent -L: two runs on one database (two users' cron jobs) must
# serialise: the result is what one after the other gives, in some order.
# The test holds the lock until both runs wait on it (so without the fix
# both have read the old weights by then), then lets them go.
mk() { # mk DIR WORD: 6 spam and 6 ham messages with a flavour of their own
	mkdir -p "$1/s" "$1/h"
	i=0
	while [ $i -lt 6 ]; do
		printf 'From: a%d@%s.example\nSubject: %s deal %d\n\nwin %s prize %d now\n' $i $2 $2 $i $2 $i > "$1/s/$i"
		printf 'From: b%d@%s.org\nSubject: %s minutes %d\n\nour %s review %d friday\n' $i $2 $2 $i $2 $i > "$1/h/$i"
		i=$((i + 1))
	done
}
mk "$T/c0" base; mk "$T/c1" alpha; mk "$T/c2" beta
"$SC" -d "$T/base.db" -L "$T/c0/s" "$T/c0/h" 2>/dev/null
ok $? "a base database with weights"
cp "$T/base.db" "$T/ab.db"; cp "$T/base.db" "$T/ba.db"; cp "$T/base.db" "$T/par.db"
"$SC" -d "$T/ab.db" -L "$T/c1/s" "$T/c1/h" 2>/dev/null && "$SC" -d "$T/ab.db" -L "$T/c2/s" "$T/c2/h" 2>/dev/null \
	&& "$SC" -d "$T/ba.db" -L "$T/c2/s" "$T/c2/h" 2>/dev/null && "$SC" -d "$T/ba.db" -L "$T/c1/s" "$T/c1/h" 2>/dev/null
ok $? "sequential -L runs, both orders"
: > "$T/par.db.lock"
/usr/bin/python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "r+")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
for _ in range(400):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
' "$T/par.db.lock" "$T/held" "$T/release" &
holder=$!
i=0
while [ $i -lt 200 ] && [ ! -e "$T/held" ]; do sleep 0.05; i=$((i + 1)); done
"$SC" -d "$T/par.db" -L "$T/c1/s" "$T/c1/h" 2>/dev/null & p1=$!
"$SC" -d "$T/par.db" -L "$T/c2/s" "$T/c2/h" 2>/dev/null & p2=$!
ino=$(stat -c %i "$T/par.db.lock")
i=0
while [ $i -lt 200 ] && [ "$(grep -c -- "-> FLOCK .*:$ino " /proc/locks 2>/dev/null)" != 2 ]; do sleep 0.05; i=$((i + 1)); done
[ $i -lt 200 ] || diag "could not see both runs wait on the lock"
touch "$T/release"
wait $holder
wait $p1; r1=$?
wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ]
ok $? "both concurrent -L runs succeed"
cmp -s "$T/par.db" "$T/ab.db" || cmp -s "$T/par.db" "$T/ba.db"
ok $? "concurrent -L runs give what one after the other gives (no weight update lost)"
done_testing
