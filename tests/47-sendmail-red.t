#!/bin/sh
# sendmail, adversarial: input shapes a script or a web form can produce
# that must neither end the message early nor lose its rest.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
body() { sed -n '/^$/,$p' "$T/q/msg" | sed 1d; }

# a line "CR ." is not a lone dot: without -i only "." (or ".\r") ends input
printf 'Subject: x\n\nline1\n\r.\nline3\n' | $BIN/sendmail r@x.test
is "$?" 0 "CR-dot line: exit 0"
printf 'line1\n\r.\nline3\n' | cmp -s - "$(body > "$T/b"; echo "$T/b")"; ok $? "CR-dot line: stays data, the rest kept"
printf 'Subject: x\n\na\n\r\r.\nb\n.\nnot this\n' | $BIN/sendmail r@x.test
printf 'a\n\r\r.\nb\n' | cmp -s - "$(body > "$T/b"; echo "$T/b")"; ok $? "CR CR dot: data; the real lone dot still ends it"
# -bs is a plain pipe: TLS facts in the caller's environment must not make
# smtp-recv claim TLS (Received: ESMTPS, tls= in the log) or offer AUTH
out=$(printf 'EHLO me\r\nQUIT\r\n' | SSL_PROTOCOL=TLSv1.3 SSL_CIPHER=FAKE PATH="$BIN:$PATH" $BIN/sendmail -bs 2>"$T/bs.err")
echo "$out" | grep -q '^250 '; ok $? "-bs: EHLO answered"
echo "$out" | grep -q 'AUTH'; is $? 1 "-bs with SSL_PROTOCOL in the environment: no AUTH offered"
grep -q 'tls=no' "$T/bs.err"; ok $? "-bs with SSL_PROTOCOL in the environment: the session is logged tls=no"

# a queue program that refuses without reading (exit 31) while sendmail is
# still writing a large header: its verdict counts (69), not EPIPE taken
# for a read error (74, "unable to read the message")
printf '#!/bin/sh\nexit 31\n' > "$T/q31"; chmod +x "$T/q31"
{ for i in 1 2 3; do printf 'X-Big: '; head -c 60000 /dev/zero | tr '\0' a; printf '\n'; done; printf 'Subject: x\n\nbody\n'; } > "$T/bighdr"
QMAILQUEUE="$T/q31" $BIN/sendmail r@x.test < "$T/bighdr" 2>"$T/err"
is "$?" 69 "refusal during a 180 KB header: EX_UNAVAILABLE"
grep -q 'unable to read' "$T/err"; is "$?" 1 "refusal during a 180 KB header: not reported as a read error"

# obsolete header syntax (RFC 5322 4.5): white space before the colon.
# "Bcc :" must stay a header, dropped, not become body text that shows
# the hidden address to every recipient
printf 'To: a@b.test\nBcc : hidden@x.test\nSubject: s\n\nbody\n' | $BIN/sendmail -t -f s@x.test
is "$?" 0 "'Bcc :': exit 0"
grep -q 'hidden@x.test' "$T/q/msg"; is "$?" 1 "'Bcc :': the hidden address is nowhere in the message"
tr '\0' '|' < "$T/q/env" | grep -q '|Thidden@x.test|'; ok $? "'Bcc :': with -t its address is a recipient"
sed -n '/^$/q;p' "$T/q/msg" | grep -q '^Subject: s$'; ok $? "'Bcc :': the header section goes on after it"

# Resent-Bcc (RFC 5322 3.6.6) hides its addresses as Bcc does
printf 'To: a@b.test\nResent-Bcc: rhidden@x.test\nSubject: s\n\nbody\n' | $BIN/sendmail -t -f s@x.test
grep -q 'rhidden@x.test' "$T/q/msg"; is "$?" 1 "Resent-Bcc: removed from the message"
tr '\0' '|' < "$T/q/env" | grep -q '|Trhidden@x.test|'; ok $? "Resent-Bcc: with -t its address is a recipient"
done_testing
