#!/bin/sh
# sendmail: a message whose first line is longer than a header line may be
# (64 KiB) and starts no header field is the body, streamed into the
# queue (`minified.json | sendmail admin` from a script); it was refused
# as a header too long (exit 65) and the mail lost. A header field that
# long is still refused.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
py=/usr/bin/python3
body() { sed -n '/^$/,$p' "$T/q/msg" | sed 1d; }

$py -c 'import sys; sys.stdout.buffer.write(b"{" + b"x" * 300000 + b"}")' > "$T/in1"
$BIN/sendmail -f s@x.test r@x.test < "$T/in1"
is "$?" 0 "a 300 KB first line without a newline: exit 0"
body | cmp -s - "$T/in1"; ok $? "the line is the body, whole"

# the line crosses the cap, a CR on the cap, then CRLF, more lines and a lone dot
$py -c 'import sys; sys.stdout.buffer.write(b"y" * 65535 + b"\r\r\nnext\r\n.\r\nafter\n")' > "$T/in2"
$py -c 'import sys; sys.stdout.buffer.write(b"y" * 65535 + b"\r\nnext\n")' > "$T/want2"
$BIN/sendmail -f s@x.test r@x.test < "$T/in2"
is "$?" 0 "a first line ending on the cap in CR CRLF: exit 0"
body | cmp -s - "$T/want2"; ok $? "its lone CR kept, CRLF stored as LF, the dot line still ends the message"

$py -c 'import sys; sys.stdout.buffer.write(b"y" * 65537 + b"\n.\n")' | $BIN/sendmail -i -f s@x.test r@x.test
body | $py -c 'import sys; d = sys.stdin.buffer.read(); sys.exit(d != b"y" * 65537 + b"\n.\n")'
ok $? "-i: a long first line and a dot line kept"

$py -c 'import sys; sys.stdout.buffer.write(b"X-Long: " + b"y" * 70000 + b"\n\nbody\n")' | $BIN/sendmail r@x.test 2>/dev/null
is "$?" 65 "a header field over the cap: still EX_DATAERR"
$py -c 'import sys; sys.stdout.buffer.write(b"X-A: a\n " + b"y" * 70000 + b"\n\nbody\n")' | $BIN/sendmail r@x.test 2>/dev/null
is "$?" 65 "a continuation line over the cap: still EX_DATAERR"
done_testing
