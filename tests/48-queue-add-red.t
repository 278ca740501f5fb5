#!/bin/sh
# queue-add, adversarial: resource limits and truncated input end in a
# qmail-queue temporary code with nothing left in the queue.
. "$(dirname "$0")/lib.sh"
export PIPEMAIL_QUEUE="$T/queue"
Q="$BIN/queue-add"
printf 'Fa@example.org\0Tb@example.test\0\0' > "$T/env"
printf 'Subject: one\n\nbody\n' > "$T/small"
"$Q" 0<"$T/small" 1<"$T/env"; is $? 0 "a first message queued"
before=$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)

# a file size limit (EFBIG) is a write error (53), not death by SIGXFSZ
head -c 300000 /dev/zero | tr '\0' x > "$T/big"
sh -c 'ulimit -f 64; exec "$0" 0<"$1" 1<"$2"' "$Q" "$T/big" "$T/env" 2>"$T/err"
is $? 53 "ulimit -f: exit 53"
grep -q 'File too large' "$T/err"; ok $? "ulimit -f: the reason on stderr ($(cat "$T/err"))"
is "$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)" "$before" "ulimit -f: no partial file left in mess/"
done_testing
