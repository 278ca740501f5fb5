#!/bin/sh
# sendmail -t: an RFC 2047 encoded word in a display name is display
# text, never address syntax (RFC 2047 5), even with a raw comma in it
# as some mailers write it: "=?utf-8?q?Doe,_John?= <j@x>" was split in
# two, and "=?utf-8?q?Doe" queued as a recipient of its own. In a
# comment, too, a word is one piece: a raw '(' in it opened a nesting
# that swallowed the rest of the field (the recipients after it never
# queued), a ')' ended the comment early and glued its tail to the
# address before it (sendmail refused the message).
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }

printf 'To: =?utf-8?q?Doe,_John?= <j@x.test>\nSubject: x\n\nb\n' | $BIN/sendmail -t -f s@x.test
is "$?" 0 "a comma inside an encoded word: exit 0"
is "$(env0)" "Fs@x.test|Tj@x.test||" "one recipient, the angle address"
grep -q '^To: =?utf-8?q?Doe,_John?= <j@x.test>$' "$T/q/msg"; ok $? "the To: field is written as it was"

printf 'To: =?utf-8?q?A;B:C?= <a@x.test>,\n =?UTF-8?B?RG9lLCBK?= <b@x.test>\nCc: c@x.test\n\nb\n' |
    $BIN/sendmail -t -f s@x.test
is "$?" 0 "';' and ':' inside an encoded word, a folded list: exit 0"
is "$(env0)" "Fs@x.test|Ta@x.test|Tb@x.test|Tc@x.test||" "the recipients, and only they"

for w in '=?utf-8?q?Doe_(Sales?=' '=?utf-8?q?Sales)_Dept?='; do
	printf 'To: a@x.test (%s), b@x.test\nSubject: x\n\nb\n' "$w" | $BIN/sendmail -t -f s@x.test
	is "$?" 0 "$w in a comment: exit 0"
	is "$(env0)" "Fs@x.test|Ta@x.test|Tb@x.test||" "$w in a comment: both recipients, as written"
done

printf 'Subject: x\n\nb\n' | $BIN/sendmail -f s@x.test '=?utf-8?q?Doe,_John?= <j@x.test>'
is "$?" 0 "as a recipient argument: exit 0"
is "$(env0)" "Fs@x.test|Tj@x.test||" "as a recipient argument: one recipient"
done_testing
