#!/bin/sh
# sendmail: quoted local parts (RFC 5321 4.1.2, RFC 5322 3.4.1). A quoted
# local part that needs no quotes ("john"@x) is the address john@x, and
# goes into the envelope unquoted as smtp-recv stores it, so a local user
# written that way is found (it was looked up as "john" and bounced); one
# that needs them ("a b"@x) is usable as it is (it was refused, 67); an
# '@' inside the quotes is no domain ("m@x.test" alone gets @me; it went
# into the envelope without a domain).
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { [ -f "$T/q/env" ] && tr '\0' '|' < "$T/q/env"; }
me=$(id -un)
send() { rm -f "$T/q/env"; printf 'Subject: x\n\nhi\n' | $BIN/sendmail "$@" 2>"$T/err"; }
sendt() { rm -f "$T/q/env"; printf '%s\nSubject: x\n\nhi\n' "$1" | $BIN/sendmail -t 2>"$T/err"; }

sendt 'To: "john"@x.test'
is "$(env0)" "F$me@host.test|Tjohn@x.test||" "-t: \"john\"@x.test is john@x.test"
send '"john.smith"@x.test'
is "$(env0)" "F$me@host.test|Tjohn.smith@x.test||" "argument \"john.smith\"@x.test is john.smith@x.test"
send '"bob"'
is "$(env0)" "F$me@host.test|Tbob@host.test||" "argument \"bob\" is bob@me"
send '"a b"@x.test'
is "$?" 0 "a quoted local part with a space: accepted"
is "$(env0)" "F$me@host.test|T\"a b\"@x.test||" "... and kept quoted"
sendt 'Cc: Ann <"a\"q"@x.test>'
is "$(env0)" "F$me@host.test|T\"a\\\"q\"@x.test||" "an escaped quote inside: kept quoted"
sendt 'To: "m@x.test"'
is "$(env0)" "F$me@host.test|T\"m@x.test\"@host.test||" "an '@' inside the quotes is no domain: @me added"
send -f '"s s"@y.test' r@x.test
is "$(env0)" "F\"s s\"@y.test|Tr@x.test||" "-f with a quoted local part"
send -f '<"sam"@y.test>' r@x.test
is "$(env0)" "Fsam@y.test|Tr@x.test||" "-f '<\"sam\"@y.test>': the sender unquoted too (its bounces find sam)"

send '"abc@x.test'
is "$?" 67 "an unclosed quote: unusable (67)"
send "$(printf '"a\tb"@x.test')"
is "$?" 67 "a control byte inside the quotes: unusable (67)"
send -f 'a b@x.test' r@x.test
is "$?" 67 "-f with a space outside quotes: still unusable (67)"
# what smtp-send would refuse 5.1.3 after queueing (a bounce) is refused here
send '"jo"hn@x.test'
is "$?" 67 "text after the closing quote (\"jo\"hn@x.test): unusable (67)"
is "$(env0)" "" "... and nothing queued"
sendt 'To: <a"b"@x.test>'
is "$?" 67 "-t: a quote inside an unquoted local part: unusable (67)"
send -f 'x\y@y.test' r@x.test
is "$?" 67 "-f with a backslash outside quotes: unusable (67)"
send '"ok"@x.test' '"a b"@x.test'
is "$?" 0 "the valid forms still go"
done_testing
