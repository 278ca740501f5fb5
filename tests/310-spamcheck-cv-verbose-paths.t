#!/bin/sh
# spamcheck -x/-X -v prints one line per message scored (label, verdict,
# log-odds, tokens used, path). The line was formatted into 512 bytes and
# silently left out when it did not fit: a message under a long path
# (deep folders, long Maildir names) vanished from the per-message
# output while the totals still counted it. A newline in a file name
# also split its line in two, as with -l. Now every message scored has
# its line, whatever its path's length, with control characters shown
# as '?'.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

long=$T
i=0
while [ $i -lt 12 ]; do
	long=$long/a-rather-long-folder-name-for-the-training-set-$i
	i=$((i + 1))
done
mkdir -p "$long/spam" "$long/ham"
for n in 0 1 2 3 4 5 6 7; do
	printf 'Subject: pills %s\n\ncheap pills %s\n' $n $n > "$long/spam/$n"
	printf 'Subject: minutes %s\n\nagenda item %s\n' $n $n > "$long/ham/$n"
done
printf 'Subject: notes\n\nthe agenda again\n' > "$long/ham/$(printf 'x\nspam spam 9.0 0 0 99 y')"
[ ${#long} -gt 512 ]
ok $? "the folder's path is longer than the old line (${#long} bytes)"

"$SC" -v -x 2 "$long/spam" "$long/ham" > "$T/out" 2> "$T/err"
is $? 0 "-v -x 2: exit 0"
is "$(grep -c "^spam .* $long/spam/" "$T/out")" 8 "a line for every spam message"
is "$(grep -c "^ham .* $long/ham/" "$T/out")" 9 "a line for every ham message"
grep -q "^ham .* $long/ham/x?spam spam 9.0 0 0 99 y\$" "$T/out"
ok $? "a newline in a name is shown as ?"
is "$(grep -vc '^folds=' "$T/out")" 17 "one line per message, no more"
"$SC" -v -X "$long/spam" "$long/ham" "$long/spam" "$long/ham" > "$T/out" 2> "$T/err"
is $? 0 "-v -X: exit 0"
is "$(grep -vc '^folds=' "$T/out")" 17 "-X: a line for every message scored"
done_testing
