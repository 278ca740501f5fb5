#!/bin/sh
# sendmail: a display name (-F, NAME, GECOS) longer than the 256 bytes
# kept is cut before a character, not inside a UTF-8 one: the added
# From: was left with half a character, a header no UTF-8 reader takes.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
py=/usr/bin/python3
long=$($py -c 'import sys; sys.stdout.buffer.write("a".encode() + "é".encode() * 200)')
# the From: line holds valid UTF-8 and the name is the longest whole
# prefix of at most 256 bytes: "a" and 127 "é"
check() {
	grep '^From: ' "$T/q/msg" | $py -c '
import sys
d = sys.stdin.buffer.read()
want = b"From: \"" + ("a" + "\u00e9" * 127).encode() + b"\" <s@x.test>\n"
sys.exit(d != want)'
}
printf 'Subject: x\n\nb\n' | $BIN/sendmail -F "$long" -f s@x.test r@x.test
is "$?" 0 "-F with a long UTF-8 name: exit 0"
check; ok $? "-F: cut before a character, not inside one"
printf 'Subject: x\n\nb\n' | NAME="$long" $BIN/sendmail -f s@x.test r@x.test
check; ok $? "NAME: cut the same way"
done_testing
