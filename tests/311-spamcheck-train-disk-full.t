#!/bin/sh
# spamcheck training on a full disk: write(2) of the new database failing
# with ENOSPC or EDQUOT (injected with strace) at its first write, in the
# middle of the entries, or at the header written last (pwrite), for -s,
# a correction (-Ns) and -L. Each is a temporary failure (111) that says
# why, the database as it was, no temporary file left behind, and the
# next training (disk space back) succeeds.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
command -v strace > /dev/null 2>&1 && strace -o /dev/null true 2> /dev/null || skip_all "strace not usable here"

mkdir "$T/s" "$T/h"
# many distinct words: a database of several buffers' worth of entries
awk -v T="$T" 'BEGIN { for (m = 0; m < 4; m++) {
	f = sprintf("%s/s/%d", T, m); printf "Subject: offer %d\n\n", m > f
	for (i = 0; i < 3000; i++) printf "w%dx%d ", m, i > f; printf "\n" > f; close(f)
	f = sprintf("%s/h/%d", T, m); printf "Subject: notes %d\n\n", m > f
	for (i = 0; i < 3000; i++) printf "n%dy%d ", m, i > f; printf "\n" > f; close(f) } }'
"$SC" -d "$T/db" -L "$T/s" "$T/h" 2> /dev/null
ok $? "a base database"
[ "$(wc -c < "$T/db")" -gt 100000 ]
ok $? "larger than the write buffer"
cp "$T/db" "$T/db.orig"

for call in "write:ENOSPC:1" "write:ENOSPC:3" "write:EDQUOT:2" "pwrite64:ENOSPC:1"; do
	IFS=: read -r sc err when <<-EOF2
	$call
	EOF2
	for mode in "-s $T/s/0" "-Ns $T/h/1" "-L $T/s $T/h"; do
		# shellcheck disable=SC2086
		strace -o /dev/null -e trace=$sc -e inject=$sc:error=$err:when=$when "$SC" -d "$T/db" $mode 2> "$T/err"
		is $? 111 "$mode, $sc $err at call $when: exit 111"
		grep -q "unable to update $T/db: " "$T/err"
		ok $? "$mode, $sc $err at call $when: says why"
		cmp -s "$T/db" "$T/db.orig" && [ ! -e "$T/db.tmp" ]
		ok $? "$mode, $sc $err at call $when: the database as it was, no temporary file"
	done
done
"$SC" -d "$T/db" -s "$T/s/0" 2> /dev/null
ok $? "space back: training succeeds"
cmp -s "$T/db" "$T/db.orig"
ok $((!$?)) "and changes the database"
"$SC" -d "$T/db" -e < "$T/s/1" > /dev/null 2>&1
[ $? -le 2 ]
ok $? "which classifies"
done_testing
