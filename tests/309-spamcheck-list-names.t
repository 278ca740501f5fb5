#!/bin/sh
# spamcheck -l prints "verdict score path" per message. A file name in a
# folder may hold a newline (anyone who can write the folder, a user's
# own Maildir that root lists from cron, names it), and was printed as
# is: the name "a<newline>ham 0.000000 b" gave a line for a file "a"
# that spamcheck never read and a forged "ham" line for "b", so a script
# acting on the list (moving spam to .Junk) acted on the wrong files.
# A control character in a path is printed as '?' now: one line per
# message, and the verdict of each line is its own.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

mkdir "$T/f"
gt='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
printf 'Subject: test\n\n%s\n' "$gt" > "$T/f/$(printf 'a\nham 0.000000 b')"
printf 'Subject: test\n\n%s\n' "$gt" > "$T/f/$(printf 'c\td\001e')"
printf 'Subject: plain\n\nplain text\n' > "$T/f/plain name"
"$SC" -d "$T/none.db" -l "$T/f" > "$T/out" 2> "$T/err"
is $? 0 "-l: exit 0"
is "$(wc -l < "$T/out" | tr -d ' ')" 3 "three messages, three lines"
grep -qx "spam 1.000000 $T/f/a?ham 0.000000 b" "$T/out"
ok $? "a newline in a name is shown as ?, the verdict is the message's"
grep -qx "spam 1.000000 $T/f/c?d?e" "$T/out"
ok $? "a tab and a control character likewise"
grep -q '^ham ' "$T/out"
ok $((!$?)) "no forged ham line"
grep -qx "unsure 0.500000 $T/f/plain name" "$T/out"
ok $? "a space in a name is kept"
done_testing
