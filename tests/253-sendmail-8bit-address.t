#!/bin/sh
# sendmail: an address with 8-bit bytes must be UTF-8 (SMTPUTF8, RFC
# 6531), as smtp-recv takes it; a Latin-1 one was queued, then refused by
# every peer a day later. Refused now: exit 67, nothing queued. UTF-8
# addresses and 8-bit display names still go.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }
l1=$(printf 'j\366rg@x.test') u8=$(printf 'j\303\266rg@x.test')

printf 'Subject: x\n\nb\n' | $BIN/sendmail -f s@x.test "$l1" 2>/dev/null
is "$?" 67 "a Latin-1 recipient argument: EX_NOUSER"
[ -e "$T/q/env" ]; is "$?" 1 "nothing queued"
printf 'To: %s\n\nb\n' "$l1" | $BIN/sendmail -t -f s@x.test 2>/dev/null
is "$?" 67 "a Latin-1 recipient in the header (-t): EX_NOUSER"
printf 'Subject: x\n\nb\n' | $BIN/sendmail -f "$l1" r@x.test 2>/dev/null
is "$?" 67 "a Latin-1 sender (-f): EX_NOUSER"
printf 'Subject: x\n\nb\n' | $BIN/sendmail -f s@x.test "$(printf 'a\300\257b@x.test')" 2>/dev/null
is "$?" 67 "an overlong UTF-8 form: EX_NOUSER"
[ -e "$T/q/env" ]; is "$?" 1 "still nothing queued"

printf 'To: J\366rg <%s>\n\nb\n' "$u8" | $BIN/sendmail -t -f "$u8" "$u8"
is "$?" 0 "UTF-8 addresses, a Latin-1 display name: exit 0"
is "$(env0)" "F$u8|T$u8|T$u8||" "UTF-8 addresses queued as given"
done_testing
