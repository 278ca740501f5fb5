#!/bin/sh
# spamcheck -q/-p under faults: when reading the rest of the message fails
# mid-stream (EIO injected with strace on spamcheck alone, not on the next
# program), the next program must never see end of input, or it would
# commit the truncated message while spamcheck answers "temporary failure"
# (the sender retries: a truncated copy plus a whole one). Likewise when
# writing to the next program fails with anything but EPIPE (EIO, ENOSPC
# injected): the next program's 0 for a truncated message must not become
# spamcheck's 0 (smtp-recv would answer 250). Training: a failed fsync
# or rename of the new database leaves no temporary file behind.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here"

# the next program: a queue program that reads the message to its end,
# then commits (and, like a program that cleans up on SIGTERM, is not
# stopped by one)
cat > "$T/next" <<EOF
#!/bin/sh
trap '' TERM
cat > "$T/got.msg"
echo committed >> "$T/commits"
exit 0
EOF
chmod +x "$T/next"
printf 'Fa@example.test\0Tb@example.test\0\0' > "$T/env"
{ printf 'Subject: big\n\n'; i=0; while [ $i -lt 400 ]; do printf '%01000d\n' $i; i=$((i + 1)); done; } > "$T/big"

# Which read(2) of spamcheck's is the third on descriptor 0 (the first
# past the 4 KiB prefix is the second): a dry run counts them, then every
# read from that one on fails with EIO.
nth_read0() { # nth_read0 N LOGFILE: index among all reads of the Nth read(0, ...)
	awk -v want="$1" '/^read\(/ { n++; if ($0 ~ /^read\(0,/ && ++z == want) { print n; exit } }' "$2"
}
for mode in q p; do
	rm -f "$T/commits" "$T/got.msg"
	strace -o "$T/trace" -e trace=read "$SC" -m 4096 -d "$T/none.db" -$mode "$T/next" < "$T/big" 1< "$T/env" 2>/dev/null
	k=$(nth_read0 3 "$T/trace")
	[ -n "$k" ]
	ok $? "-$mode: dry run reads the message in several reads ($k)"
	rm -f "$T/commits" "$T/got.msg"
	strace -o /dev/null -e trace=read -e inject=read:error=EIO:when=$k+ \
		"$SC" -m 4096 -d "$T/none.db" -$mode "$T/next" < "$T/big" 1< "$T/env" 2>"$T/err"
	rc=$?
	[ $mode = q ] && want=54 || want=111
	is $rc $want "-$mode: read error mid-message is temporary ($want)"
	grep -q 'unable to read message' "$T/err"
	ok $? "-$mode: and says why"
	i=0
	while [ $i -lt 10 ] && [ ! -e "$T/commits" ]; do sleep 0.05; i=$((i + 1)); done
	[ ! -e "$T/commits" ]
	ok $? "-$mode: the next program never committed the truncated message"
done

# writes: the 2nd write(2) to the pipe (after the log line and the header
# lines) and every later one fail
nth_pipe_write() { # index among all writes of the Nth write to the fd the headers went to
	awk -v want="$1" '/^write\(/ { n++; if (!fd && $0 ~ /X-Spam-/) { fd = $0; sub(/^write\(/, "", fd); sub(/,.*/, "", fd) }
		if (fd && $0 ~ ("^write\\(" fd ",") && ++z == want) { print n; exit } }' "$2"
}
for err in EIO ENOSPC; do
	for mode in q p; do
		rm -f "$T/commits" "$T/got.msg"
		strace -o "$T/trace" -e trace=write "$SC" -m 4096 -d "$T/none.db" -$mode "$T/next" < "$T/big" 1< "$T/env" 2>/dev/null
		k=$(nth_pipe_write 3 "$T/trace")
		rm -f "$T/commits" "$T/got.msg"
		strace -o /dev/null -e trace=write -e inject=write:error=$err:when=${k:-9999}+ \
			"$SC" -m 4096 -d "$T/none.db" -$mode "$T/next" < "$T/big" 1< "$T/env" 2>"$T/err"
		rc=$?
		[ $mode = q ] && want=53 || want=111
		is $rc $want "-$mode: $err writing to the next program is temporary ($want)"
		i=0
		while [ $i -lt 10 ] && [ ! -e "$T/commits" ]; do sleep 0.05; i=$((i + 1)); done
		[ ! -e "$T/commits" ]
		ok $? "-$mode: $err: the next program never committed the truncated message"
	done
done

printf 'Subject: cheap pills\n\nbuy cheap pills now\n' > "$T/spam"
"$SC" -d "$T/t.db" -s < "$T/spam" 2>/dev/null
cp "$T/t.db" "$T/t.db.orig"
for sc in fsync rename; do
	strace -o /dev/null -e trace=$sc -e inject=$sc:error=EIO:when=1 "$SC" -d "$T/t.db" -s < "$T/spam" 2>/dev/null
	is $? 111 "training: $sc failing with EIO is temporary (111)"
	[ ! -e "$T/t.db.tmp" ]
	ok $? "training: no temporary database left behind after a failed $sc"
	cmp -s "$T/t.db" "$T/t.db.orig"
	ok $? "training: the database is as it was"
done
done_testing
