#!/bin/sh
# sendmail: the From: it adds when the message has none is a valid
# address: with the null sender (-f '<>' or -f '') the calling user's
# login@me, never `<>`; an mbox "From " line on top of the input is
# dropped, not taken for the start of the body.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }
me=$(id -un)
header() { sed '/^$/q' "$T/q/msg"; }

for f in '<>' ''; do
	printf 'Subject: bounce\n\nbody\n' | $BIN/sendmail -f "$f" r@x.test
	is "$(env0)" "F|Tr@x.test||" "-f '$f': the envelope sender stays null"
	from=$(header | grep '^From:')
	case "$from" in
	"From: $me@host.test" | "From: \""*"\" <$me@host.test>") ok 0 "-f '$f': From: is the calling user, $from" ;;
	*) ok 1 "-f '$f': From: is the calling user (got '$from')" ;;
	esac
done
printf 'Subject: bounce\n\nbody\n' | $BIN/sendmail -f '<>' -F 'Mail System' r@x.test
header | grep -qx "From: \"Mail System\" <$me@host.test>"; ok $? "-f '<>' -F NAME: the name with the calling user's address"
printf 'Subject: x\n\nbody\n' | $BIN/sendmail -f s@a.test r@x.test
header | grep -q '^From: .*s@a\.test'; ok $? "-f ADDRESS: From: still from the envelope sender"
printf 'From: a@b.test\nSubject: x\n\nbody\n' | $BIN/sendmail -f '<>' r@x.test
is "$(header | grep -c '^From:')" 1 "-f '<>' with a From: in the message: none added"

# an mbox "From " line on top
rm -f "$T/q/msg" "$T/q/env"
printf 'From someone@else.test Mon Jan  1 00:00:00 2024\nSubject: mbox\nTo: t@x.test\n\nbody\n' | $BIN/sendmail -t -f s@a.test
is "$?" 0 "mbox From line on top: exit 0"
is "$(env0)" "Fs@a.test|Tt@x.test||" "-t still finds To: below it"
grep -q '^From someone' "$T/q/msg"; is "$?" 1 "the From line is dropped"
header | grep -qx 'Subject: mbox'; ok $? "Subject: stays in the header"
is "$(header | grep -c '^From:')" 1 "one From: added (the mbox line is not one)"
is "$(sed '1,/^$/d' "$T/q/msg")" "body" "the body is the body"
printf 'From someone@else.test Mon Jan  1 00:00:00 2024\r\nSubject: crlf\r\n\r\nbody\r\n' | $BIN/sendmail r@x.test
header | grep -qx 'Subject: crlf'; ok $? "with CRLF line ends too"
printf 'Subject: x\n\nFrom here on, body\n' | $BIN/sendmail r@x.test
grep -qx 'From here on, body' "$T/q/msg"; ok $? "a From line in the body is kept"
rm -f "$T/q/msg"
printf 'From a line that is all there is' | $BIN/sendmail r@x.test
is "$?" 0 "input of only a From line: exit 0"
grep -q '^From a line' "$T/q/msg"; is "$?" 1 "and it is dropped"
done_testing
