#!/bin/sh
# queue-add: qmail-queue protocol, exit codes, layout, durability, concurrency.
. "$(dirname "$0")/lib.sh"
export PIPEMAIL_QUEUE="$T/queue"
Q="$BIN/queue-add"

# Feed the envelope through a file so NULs survive the shell.
env_file() { printf "$1" > "$T/env"; }
run() { "$Q" 0<"$T/msg" 1<"$T/env" 2>"$T/err"; echo $?; }

printf 'Subject: one\n\nbody line\n' > "$T/msg"
env_file 'Fa@example.org\0Tb@example.test\0Tc@example.test\0\0'
is "$(run)" 0 "exit 0 for a good message"
n=$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)
is "$n" 1 "one file in mess/"
f=$(ls "$PIPEMAIL_QUEUE/mess")
echo "$f" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$'; ok $? "queue id is digits and dots"
[ -f "$PIPEMAIL_QUEUE/new/$f" ]; ok $? "new/ notice exists"
[ -p "$PIPEMAIL_QUEUE/trigger" ]; ok $? "trigger FIFO created"
head -c 4 "$PIPEMAIL_QUEUE/mess/$f" | grep -q PMQ1; ok $? "header magic"
tail -c +4097 "$PIPEMAIL_QUEUE/mess/$f" | cmp -s - "$T/msg"; ok $? "message stored byte-exact at 4096"
head -c 4096 "$PIPEMAIL_QUEUE/mess/$f" | tr '\0' '\n' | grep -qx 'Tc@example.test'; ok $? "envelope stored"

# exit codes
env_file 'Xa@b\0Tc@d\0\0';            is "$(run)" 91 "no F field -> 91"
env_file 'Fa@b\0Xc@d\0\0';            is "$(run)" 91 "bad recipient field -> 91"
env_file 'Fa@b\0\0';                  is "$(run)" 91 "no recipients -> 91"
env_file 'Fa@b\0Tc@d\0';              is "$(run)" 54 "truncated envelope -> 54"
env_file 'Fa@b\0Tc\r\n@d\0\0';        is "$(run)" 91 "CR/LF in address -> 91"
long=$(head -c 1200 /dev/zero | tr '\0' x)
env_file "Fa@b\0T$long@d\0\0";       is "$(run)" 11 "address too long -> 11"
is "$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)" 1 "refused envelopes leave nothing behind"
is "$(ls "$PIPEMAIL_QUEUE/new" | wc -l)" 1 "and no notices"

# empty sender (a bounce) and PIPEMAIL_DSN kept
env_file 'F\0Tb@example.test\0\0'
PIPEMAIL_DSN="RET=HDRS ENVID=abc
NOTIFY=NEVER
" "$Q" 0<"$T/msg" 1<"$T/env"; is $? 0 "null sender accepted"
g=$(ls -t "$PIPEMAIL_QUEUE/mess" | head -1)
head -c 4096 "$PIPEMAIL_QUEUE/mess/$g" | tr '\0' '\n' | grep -q 'RET=HDRS ENVID=abc'; ok $? "PIPEMAIL_DSN stored"

# a big envelope goes after the message and still reads back
rm -f "$T/env"; printf 'Fs@x\0' > "$T/env"
i=0; while [ $i -lt 300 ]; do printf 'Trecipient-number-%d@example.test\0' $i >> "$T/env"; i=$((i + 1)); done
printf '\0' >> "$T/env"
is "$(run)" 0 "300 recipients accepted"

# durability: the syscall order is write, fsync(file), fsync(dir), then exit 0
if command -v strace >/dev/null 2>&1; then
	env_file 'Fa@b\0Tc@d\0\0'
	strace -f -e trace=openat,pwrite64,linkat,fsync,exit_group -o "$T/trace" "$Q" 0<"$T/msg" 1<"$T/env"
	is $? 0 "exit 0 under strace"
	grep -Eo 'pwrite64|fsync|linkat|exit_group' "$T/trace" | tr '\n' ' ' > "$T/order"
	grep -q 'pwrite64 pwrite64 pwrite64 fsync fsync linkat exit_group' "$T/order"
	ok $? "header written last, then fsync file and directory, then the new/ notice, before exit ($(cat "$T/order"))"
	# disk full (ENOSPC on the first write) -> 53, nothing left behind
	before=$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)
	strace -o /dev/null -e inject=pwrite64:error=ENOSPC:when=1 "$Q" 0<"$T/msg" 1<"$T/env" 2>/dev/null
	is $? 53 "ENOSPC -> 53"
	is "$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)" "$before" "ENOSPC leaves no file"
	strace -o /dev/null -e inject=fsync:error=EIO:when=1 "$Q" 0<"$T/msg" 1<"$T/env" 2>/dev/null
	is $? 53 "fsync EIO -> 53"
	is "$(ls "$PIPEMAIL_QUEUE/mess" | wc -l)" "$before" "fsync failure leaves no file"
fi

# an unwritable queue is a temporary failure
PIPEMAIL_QUEUE=/proc/nonexistent/queue "$Q" 0<"$T/msg" 1<"$T/env" 2>/dev/null
is $? 61 "unusable queue directory -> 61"

# many concurrent writers: every message complete, every name distinct
rm -rf "$PIPEMAIL_QUEUE"
env_file 'Fa@b\0Tc@d\0\0'
N=100; [ -n "${PIPEMAIL_SANITIZED:-}" ] && N=50
i=0; while [ $i -lt $N ]; do
	( printf 'Subject: %d\n\nbody %d\n' $i $i | "$Q" 1<"$T/env"; echo $? > "$T/rc.$i" ) &
	i=$((i + 1))
done
wait
is "$(cat "$T"/rc.* | sort -u | tr -d '\n')" 0 "$N concurrent writers all exit 0"
is "$(ls "$PIPEMAIL_QUEUE/mess" | wc -l | tr -d ' ')" "$N" "$N distinct queue files"
bad=0
for f in "$PIPEMAIL_QUEUE"/mess/*; do
	s=$(tail -c +4097 "$f" | sed -n 's/^Subject: //p')
	tail -c +4097 "$f" | grep -qx "body $s" || bad=$((bad + 1))
done
is $bad 0 "every concurrent message intact"

# queue-add never blocks on a trigger nobody reads
env_file 'Fa@b\0Tc@d\0\0'
timeout 10 "$Q" 0<"$T/msg" 1<"$T/env"; is $? 0 "no reader on the trigger: no blocking"

done_testing
