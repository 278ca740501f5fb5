#!/bin/sh
# sendmail: -t (To/Cc/Bcc, Bcc removed, groups, comments, quotes, folded
# lines; Resent-To/Cc/Bcc of a resent message), -f, -F, -i/-oi and the lone dot, added Date/Message-ID/From,
# exit codes, the queue program's codes, -bs through smtp-recv.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }

printf 'To: "Smith, J" <j@x.test>, b@y.test (Bee (nested))\nCc: team: c1@z.test,\n  c2@z.test;, undisclosed-recipients:;\nBcc: hidden@x.test,\n\tsecond@x.test\nSubject: hi\n\nbody\n' |
	$BIN/sendmail -t -f me@host.test -F 'Me "Too"' extra@a.test
is "$?" 0 "-t: exit 0"
is "$(env0)" "Fme@host.test|Textra@a.test|Tj@x.test|Tb@y.test|Tc1@z.test|Tc2@z.test|Thidden@x.test|Tsecond@x.test||" "-t: arguments, then To, Cc (groups, folded) and Bcc recipients"
grep -qi '^bcc' "$T/q/msg"; is "$?" 1 "Bcc removed from the header"
grep -q 'second@x.test' "$T/q/msg"; is "$?" 1 "Bcc continuation line removed too"
grep -q '^From: "Me \\"Too\\"" <me@host.test>$' "$T/q/msg"; ok $? "From added from -f and -F, name quoted"
grep -q '^Date: ' "$T/q/msg"; ok $? "Date added"
grep -q '^Message-ID: <.*@host.test>$' "$T/q/msg"; ok $? "Message-ID added"
head -1 "$T/q/msg" | grep -q '^Received: (pipemail sendmail'; ok $? "Received trace line on top"
tail -1 "$T/q/msg" | grep -qx 'body'; ok $? "body kept"

# a resent message (RFC 5322 3.6.6) goes to its Resent- recipients only:
# the original To/Cc/Bcc have had it (sendmail's rule)
printf 'Resent-From: r@host.test\nResent-To: new@x.test\nResent-Cc: rc@x.test,\n  rc2@x.test\nResent-Bcc: rb@x.test\nFrom: o@o.test\nTo: old@o.test\nCc: oldcc@o.test\nBcc: oldbcc@o.test\n\nbody\n' |
	$BIN/sendmail -t -f r@host.test
is "$(env0)" "Fr@host.test|Tnew@x.test|Trc@x.test|Trc2@x.test|Trb@x.test||" "-t of a resent message: Resent-To/Cc/Bcc only"
grep -qi '^resent-bcc\|^bcc' "$T/q/msg"; is "$?" 1 "Resent-Bcc and Bcc removed"
grep -q '^Resent-To: new@x.test$' "$T/q/msg" && grep -q '^To: old@o.test$' "$T/q/msg"; ok $? "the other fields kept"
grep -c '^Resent-Date: \|^Resent-Message-ID: <' "$T/q/msg" | grep -qx 2; ok $? "a resent message gets Resent-Date and Resent-Message-ID"
grep -c '^Resent-From: \|^Date: \|^Message-ID: ' "$T/q/msg" | grep -qx 1; ok $? "its own Resent-From kept; no Date or Message-ID added to the original's"
printf 'Resent-From: r@host.test\nTo: old@o.test\n\nbody\n' | $BIN/sendmail -t 2>/dev/null
is "$?" 64 "-t of a resent message without Resent- recipients: none found (EX_USAGE)"
printf 'Resent-To: new@x.test\nResent-Date: Mon, 1 Jan 2024 00:00:00 +0000\nFrom: o@o.test\n\nbody\n' | $BIN/sendmail -t -f r@host.test
grep -q '^Resent-From: .*<r@host.test>$' "$T/q/msg" && [ "$(grep -c '^Resent-Date: ' "$T/q/msg")" = 1 ]; ok $? "Resent-From added from -f; the given Resent-Date kept"
printf 'From: a@b.test\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\n\nline\n.\nafter dot\n' | $BIN/sendmail r@x.test
is "$?" 0 "plain recipients: exit 0"
grep -c '^From:\|^Date:\|^Message-ID:' "$T/q/msg" | grep -qx 3; ok $? "existing From/Date/Message-ID kept, none added"
grep -q 'after dot' "$T/q/msg"; is "$?" 1 "without -i a lone dot ends the message"
is "$(env0)" "F$(id -un)@host.test|Tr@x.test||" "default sender: login@me"
printf 'Subject: x\r\n\r\nline\r\n.\r\nafter dot\r\n' | $BIN/sendmail -oi r@x.test
grep -q 'after dot' "$T/q/msg"; ok $? "-oi: a lone dot is data"
grep -q "$(printf '\r')" "$T/q/msg"; is "$?" 1 "CRLF input stored with LF"
printf 'Subject: x\n\n.\n' | $BIN/sendmail -i -f '<>' r@x.test
is "$(env0)" "F|Tr@x.test||" "-f '<>': the null sender"
printf 'Subject: x\n\n..x\n' | $BIN/sendmail -odb -oem -oXfoo r
is "$(env0)" "F$(id -un)@host.test|Tr@host.test||" "unknown -o options ignored; bare name gets @me"
grep -qx '\.\.x' "$T/q/msg"; ok $? "dot lines stored as given"
printf 'no header line\nsecond\n' | $BIN/sendmail r@x.test
sed -n '/^$/,$p' "$T/q/msg" | sed 1d > "$T/body"; printf 'no header line\nsecond\n' | cmp -s - "$T/body"; ok $? "a message without header: body kept, headers added"

# errors
printf 'Subject: x\n\nbody\n' | $BIN/sendmail -t 2>/dev/null
is "$?" 64 "-t without any recipient: EX_USAGE"
printf 'Subject: x\n\n' | $BIN/sendmail 2>/dev/null
is "$?" 64 "no recipients: EX_USAGE"
printf 'Subject: x\n\n' | $BIN/sendmail -Z r 2>/dev/null
is "$?" 64 "unknown option: EX_USAGE"
printf 'Subject: x\n\n' | $BIN/sendmail "$(printf 'a\001b@x')" 2>/dev/null
is "$?" 67 "unusable address: EX_NOUSER"
printf 'Subject: x\n\n' | $BIN/sendmail '' 2>/dev/null
is "$?" 67 "empty address: EX_NOUSER"
printf 'Subject: x\n\n' | $BIN/sendmail 'Ann Example <ann@x.test>, bob (Bob)'
is "$(env0)" "F$(id -un)@host.test|Tann@x.test|Tbob@host.test||" "arguments parsed as address lists"
head -c 70000 /dev/zero | tr '\0' x | { printf 'X-Long: '; cat; printf '\n\nbody\n'; } | $BIN/sendmail r@x.test 2>/dev/null
is "$?" 65 "a header line over the limit: EX_DATAERR"
printf 'Subject: x\n\n' | FAKEQ_EXIT=53 $BIN/sendmail r@x.test 2>/dev/null
is "$?" 75 "queue program temporary failure: EX_TEMPFAIL"
printf 'Subject: x\n\n' | FAKEQ_EXIT=31 $BIN/sendmail r@x.test 2>/dev/null
is "$?" 69 "queue program permanent failure: EX_UNAVAILABLE"
printf 'Subject: x\n\n' | QMAILQUEUE=/nonexistent $BIN/sendmail r@x.test 2>/dev/null
is "$?" 75 "queue program missing: EX_TEMPFAIL"

# -bs: an SMTP session on stdin/stdout through smtp-recv
if [ -x "$BIN/smtp-recv" ] && [ -x "$BIN/mailuser" ]; then
	$BIN/mailuser domain add host.test >/dev/null 2>&1
	rm -f "$T/q/msg" "$T/q/env"
	out=$(printf 'EHLO me\r\nMAIL FROM:<s@a.test>\r\nRCPT TO:<far@away.test>\r\nDATA\r\nSubject: bs\r\n\r\nhello\r\n.\r\nQUIT\r\n' |
		PATH="$BIN:$PATH" $BIN/sendmail -bs 2>"$T/bs.err")
	echo "$out" | grep -q '^250.*' ; ok $? "-bs: smtp-recv answers"
	is "$(env0 2>/dev/null)" "Fs@a.test|Tfar@away.test||" "-bs: relaying allowed for the local submitter"
	grep -q '^hello' "$T/q/msg"; ok $? "-bs: message queued"
fi
# started with SIGCHLD ignored (PHP, swaks, some daemons do that): the
# queue program's status must still be seen, or a queued message is
# reported as failed and sent again
rm -f "$T/q/msg"
printf 'Subject: chld\n\nx\n' | python3 -c 'import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])' $BIN/sendmail r@x.test
is "$?" 0 "SIGCHLD ignored by the caller: still exit 0"
printf 'Subject: chld\n\nx\n' | FAKEQ_EXIT=31 python3 -c 'import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])' $BIN/sendmail r@x.test
is "$?" 69 "SIGCHLD ignored by the caller: the queue program's refusal still seen"
# -bp, and sendmail called as mailq: the queue listing (queue-list's)
mkdir -p "$T/queue/mess" "$T/queue/state"
want=$(PIPEMAIL_QUEUE="$T/queue" $BIN/queue-list 2>&1)
is "$(PIPEMAIL_QUEUE="$T/queue" $BIN/sendmail -bp 2>&1)" "$want" "-bp: queue-list's listing"
ln -s "$BIN/sendmail" "$T/mailq"
is "$(PIPEMAIL_QUEUE="$T/queue" "$T/mailq" 2>&1)" "$want" "called as mailq: the same"
done_testing
