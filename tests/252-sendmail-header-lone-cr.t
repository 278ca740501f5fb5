#!/bin/sh
# sendmail: a lone CR in the header section ends a header line, as
# smtp-send sends it (lib/dotstuff takes a lone CR for a line end). Read
# as part of one field, "Subject: x<CR>Bcc: y" kept a Bcc that -t did not
# read and the peer then saw as a field of its own; a message with CR
# line ends had its header taken for one line. CR CR LF ends a header
# line as CRLF does. Body bytes stay as given.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }
body() { sed -n '/^$/,$p' "$T/q/msg" | sed 1d; }

printf 'To: a@x.test\nSubject: hi\rBcc: hidden@x.test\n\nbody\n' | $BIN/sendmail -t -f s@x.test
is "$?" 0 "-t, a Bcc after a lone CR: exit 0"
is "$(env0)" "Fs@x.test|Ta@x.test|Thidden@x.test||" "the Bcc after a lone CR is a recipient"
grep -qi 'bcc\|hidden' "$T/q/msg"; is "$?" 1 "and is removed from the message"
grep -qx 'Subject: hi' "$T/q/msg"; ok $? "the field before the CR kept, as a line of its own"

printf 'To: a@x.test\rCc: c@x.test\rSubject: cr\r\rline 1\rline 2\r' | $BIN/sendmail -t -f s@x.test
is "$(env0)" "Fs@x.test|Ta@x.test|Tc@x.test||" "CR line ends: each field read on its own"
grep -c '^To: a@x.test$\|^Cc: c@x.test$\|^Subject: cr$' "$T/q/msg" | grep -qx 3; ok $? "CR line ends: the fields stored as lines"
is "$(body | od -An -c | tr -s ' ')" "$(printf 'line 1\rline 2\n' | od -An -c | tr -s ' ')" "CR line ends: the body after the empty line, its CR kept"

printf 'To: a@x.test\nnot a\rheader\n\nb\rc\n' | $BIN/sendmail -t -f s@x.test
is "$(body | od -An -c | tr -s ' ')" "$(printf 'not a\rheader\n\nb\rc\n' | od -An -c | tr -s ' ')" "a body line with a lone CR kept whole"
printf 'To: a@x.test\nSubject: x\r\n.\r\nafter\n' | $BIN/sendmail -t -f s@x.test
grep -q after "$T/q/msg"; is "$?" 1 "a lone dot line (CRLF) still ends the message"
printf 'To: a@x.test\nSubject: x\r.\rX-After: y\n\nb\n' | $BIN/sendmail -t -f s@x.test
grep -q 'X-After' "$T/q/msg"; ok $? "a dot between lone CRs is no lone dot line"
# CR CR LF (a text-mode writer's CRLF) ends a header line, no empty one
printf 'To: a@x.test\r\r\nCc: c@x.test\r\r\nSubject: crcrlf\r\r\n\r\r\nbody\r\r\n' | $BIN/sendmail -t -f s@x.test
is "$(env0)" "Fs@x.test|Ta@x.test|Tc@x.test||" "CR CR LF line ends: every field read"
grep -c '^To: a@x.test$\|^Cc: c@x.test$\|^Subject: crcrlf$' "$T/q/msg" | grep -qx 3; ok $? "CR CR LF line ends: the fields stored as lines"
# an empty first line: no header, the body follows
printf '\nbody\n' | $BIN/sendmail -f s@x.test r@x.test
is "$?" 0 "an empty first line: exit 0"
is "$(body)" "body" "an empty first line: the body kept"
done_testing
