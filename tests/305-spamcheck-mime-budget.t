#!/bin/sh
# spamcheck -k: a message/rfc822 part sent quoted-printable is decoded
# and walked, all such copies together at most 4 times the message; a
# chain of them that runs past that budget was walked only in part and
# nothing said so. It is a MIME anomaly now, as nesting past the depth
# limit is; a chain within the budget is none.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
has() { grep -qxF "$1" "$T/tok"; }

# levels of quoted-printable message/rfc822 around 80 KB of text that
# decodes to itself: every copy is about as large as the message
chain() {
	{ printf 'Subject: deep\n\n'; i=0; while [ $i -lt 2000 ]; do
		echo 'padding padding padding padding padding'; i=$((i + 1)); done; } > "$T/m"
	i=0; while [ $i -lt "$1" ]; do
		{ printf 'Subject: level\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n'
		  cat "$T/m"; } > "$T/m.new"
		mv "$T/m.new" "$T/m"; i=$((i + 1)); done
}

chain 12
"$SC" -k < "$T/m" > "$T/tok" 2>"$T/err"
ok $? "twelve levels: exit 0"
has "R:mime-anomaly"
ok $? "twelve levels: past the decoded-copy budget, a MIME anomaly"

chain 3
"$SC" -k < "$T/m" > "$T/tok" 2>"$T/err"
ok $? "three levels: exit 0"
! has "R:mime-anomaly"
ok $? "three levels: within the budget, no anomaly"
has "padding"
ok $? "three levels: the innermost text read"
done_testing
