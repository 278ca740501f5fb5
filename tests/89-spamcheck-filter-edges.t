#!/bin/sh
# spamcheck filter mode at the edges of the message format: an mbox
# "From " line (procmail, mutt's pipe and the like pass one; the tokeniser
# skips it) stays the first line, with the fields below it, else the
# result is no longer an mbox message and the From line becomes a broken
# header line.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

printf 'From alice@example.test Mon Jan  1 00:00:00 2024\nSubject: hello\nFrom: alice@example.test\n\nhi there\n' > "$T/mbox"
"$SC" -d "$T/none.db" < "$T/mbox" > "$T/out" 2>/dev/null
is $? 0 "a message with an mbox From line is filtered"
is "$(head -1 "$T/out")" "From alice@example.test Mon Jan  1 00:00:00 2024" "the From line stays first"
sed -n 2p "$T/out" | grep -q '^X-Spam-Score: '
ok $? "the fields follow it"
{ head -1 "$T/out"; sed 1d "$T/out" | grep -v '^X-Spam-\|^	reasons='; } | cmp -s - "$T/mbox"
ok $? "every other byte unchanged"

# the same in the delivery pipe
printf '#!/bin/sh\ncat > "%s/got"\n' "$T" > "$T/next"
chmod +x "$T/next"
"$SC" -d "$T/none.db" -p "$T/next" < "$T/mbox" 2>/dev/null
is "$(head -1 "$T/got")" "From alice@example.test Mon Jan  1 00:00:00 2024" "-p: the From line stays first"
done_testing
