#!/bin/sh
# sendmail: the options that take a value in sendmail(8) and Postfix's
# sendmail (getopt "A:" "e:" and sendmail's "d:") take it here too, attached
# or in the next word: -Ac is accepted, and the word after -e or -d is never
# taken for a recipient (nor a recipient for the value of a letter that
# follows -e in the same word).
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { [ -f "$T/q/env" ] && tr '\0' '|' < "$T/q/env"; }
me=$(id -un)
send() { rm -f "$T/q/env"; printf 'Subject: x\n\nhi\n' | $BIN/sendmail "$@" 2>"$T/err"; }

send -Ac r@x.test
is "$?" 0 "-Ac (sendmail's submission mode, ignored by Postfix): accepted"
is "$(env0)" "F$me@host.test|Tr@x.test||" "-Ac: the one recipient"
send -Am r@x.test
is "$(env0)" "F$me@host.test|Tr@x.test||" "-Am: the one recipient"
send -A m r@x.test
is "$(env0)" "F$me@host.test|Tr@x.test||" "-A m: 'm' is the option's value, not a recipient"
send -e m r@x.test
is "$(env0)" "F$me@host.test|Tr@x.test||" "-e m: 'm' is the error mode, not a recipient"
send -ep r@x.test
is "$?" 0 "-ep (error mode p): exit 0"
is "$(env0)" "F$me@host.test|Tr@x.test||" "-ep: the recipient is not swallowed as a value"
send -eq r@x.test
is "$?" 0 "-eq (error mode q): not a queue run"
send -d0.1 r@x.test
is "$?" 0 "-d0.1 (sendmail's debug flags): accepted and ignored"
is "$(env0)" "F$me@host.test|Tr@x.test||" "-d0.1: the one recipient"
send -d 0.1 r@x.test
is "$(env0)" "F$me@host.test|Tr@x.test||" "-d 0.1: '0.1' is the option's value"
send -oi -Ac -f s@y.test r@x.test
is "$(env0)" "Fs@y.test|Tr@x.test||" "-Ac between other options: -f still read"
send -r s@y.test r@x.test
is "$(env0)" "Fs@y.test|Tr@x.test||" "-r: the sender, as -f"
send -qRx.test
grep -q -- '-r SENDER' "$T/err"
ok $? "the usage message names -r ($(cat "$T/err"))"
done_testing
