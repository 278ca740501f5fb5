#!/bin/sh
# queue-list prints what anyone may put into the queue (an envelope
# sender or recipient through queue-add or smtp-recv, a remote server's
# reply text): 8-bit terminal controls (C1 such as CSI 0x9b, raw or as
# UTF-8), bytes that are no UTF-8, bidi overrides and C0 controls in a
# reply reach the admin's terminal as \xHH, not raw; UTF-8 text is kept.
. "$(dirname "$0")/lib.sh"
PIPEMAIL_QUEUE="$T/queue" PIPEMAIL_CONF="$T/conf"
export PIPEMAIL_QUEUE PIPEMAIL_CONF
mkdir -p "$T/queue" "$T/conf"
printf 'Fev\2332Jil\302\2331m@x.test\0Tj\303\266rg@x.test\0Tr\377\376@y.test\0Tb\342\200\256dir@y.test\0\0' > "$T/env"
printf 'Subject: x\n\nbody\n' | $BIN/queue-add 1< "$T/env"
is "$?" 0 "queued with 8-bit addresses"
id=$(ls "$T/queue/mess")
printf 'ID %s\nPMS1 -\np 1 0 0 4.2.0 - busy\033[2J\r\233now\n' "$id" > "$T/queue/state/$id"
printf 'p 0 0 0 - - \n' >> "$T/queue/state/$id"
printf 'p 0 0 0 - - \n' >> "$T/queue/state/$id"
$BIN/queue-list > "$T/out"
is "$?" 0 "listed"
LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177\200-\237\377]')" "$T/out"
is "$?" 1 "no control bytes or 8-bit controls in the listing"
# C1 controls raw and as UTF-8, bytes that are no UTF-8, a bidi override
# and a reply's controls escaped; UTF-8 kept
sed 's/  age [0-9]*m  /  age -  /' "$T/out" > "$T/got"
{
	printf '%s  age -  size 17  from <ev\\x9b2Jil\\xc2\\x9b1m@x.test>\n' "$id"
	printf '  pending <j\303\266rg@x.test> attempts 1 next now last: 4.2.0 busy\\x1b[2J\\x0d\\x9bnow\n'
	printf '  pending <r\\xff\\xfe@y.test> next now\n  pending <b\\xe2\\x80\\xaedir@y.test> next now\n'
	printf '1 message, 3 pending recipients\n'
} > "$T/want"
diff "$T/want" "$T/got" | sed "s/^/# /"; cmp -s "$T/got" "$T/want"; ok $? "the listing, exact"
done_testing
