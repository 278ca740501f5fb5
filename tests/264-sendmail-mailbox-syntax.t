#!/bin/sh
# sendmail: a recipient or sender must be an RFC 5321 Mailbox (dot-string
# or quoted local part, '@', a domain or an address literal; UTF-8 per
# RFC 6531), as smtp-recv takes it. "a@@x", "@x", "a@", "a@x..y" and
# "a@.x" were queued, then bounced by every peer: refused now, exit 67
# (EX_NOUSER, as for any unusable address), nothing queued.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
env0() { tr '\0' '|' < "$T/q/env"; }

for a in 'a@@x.test' '@x.test' 'a@' 'a@x..test' 'a@.x.test' 'a@x.test.' 'a@-x.test' 'a@x_y.test' \
    'a..b@x.test' '.a@x.test' 'a@[300.1.2.3]' 'a@b@x.test'; do
	rm -f "$T/q/env"
	printf 'Subject: x\n\nb\n' | $BIN/sendmail -f s@x.test -- "$a" 2>/dev/null
	is "$?" 67 "recipient argument $a: EX_NOUSER"
	[ -e "$T/q/env" ]; is "$?" 1 "recipient argument $a: nothing queued"
done
printf 'To: x <a@x..test>\nSubject: x\n\nb\n' | $BIN/sendmail -t -f s@x.test 2>/dev/null
is "$?" 67 "a bad recipient in the header (-t): EX_NOUSER"
printf 'Subject: x\n\nb\n' | $BIN/sendmail -f 'a@x..test' r@x.test 2>/dev/null
is "$?" 67 "a bad sender (-f): EX_NOUSER"
[ -e "$T/q/env" ]; is "$?" 1 "still nothing queued"

# what RFC 5321 allows still goes
printf 'Subject: x\n\nb\n' | $BIN/sendmail -f s@x.test -- 'a.b+c@x-y.test' '"a b"@x.test' 'c@[192.0.2.7]' \
    'd@[IPv6:2001:db8::1]' e
is "$?" 0 "good addresses: exit 0"
is "$(env0)" 'Fs@x.test|Ta.b+c@x-y.test|T"a b"@x.test|Tc@[192.0.2.7]|Td@[IPv6:2001:db8::1]|Te@host.test||' \
    "good addresses queued as given, a bare one with @me"
done_testing
