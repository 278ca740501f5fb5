#!/bin/sh
# spamcheck training and listing: a message file named on the command line
# that cannot be opened (a socket: ENXIO) or read (/proc/self/mem: EIO)
# is a failure (exit 111, the database untouched), never a warning and
# exit 0: "spamcheck -Ns message" that learnt nothing must not report
# the correction made. In a folder an unreadable message is still skipped
# with a warning (the others are learnt). Likewise an empty message: an
# empty standard input or named file fails, an empty file in a folder is
# skipped.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
[ -r /proc/self/mem ] || skip_all "no /proc/self/mem"
DB=$T/sc.db
printf 'From: a@deals.example\nSubject: cheap pills\n\nBuy cheap pills now\n' > "$T/msg"
"$SC" -d "$DB" -n "$T/msg" 2>/dev/null
ok $? "a base database"
cp "$DB" "$T/before.db"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/sock"
[ -S "$T/sock" ]
ok $? "a socket to name"

for bad in "$T/sock" /proc/self/mem; do
	"$SC" -d "$DB" -Ns "$bad" 2>"$T/err"
	is $? 111 "-Ns $bad: unreadable, exit 111"
	grep -q "fatal: unable to read $bad" "$T/err"
	ok $? "-Ns $bad: says why"
	cmp -s "$DB" "$T/before.db"
	ok $? "-Ns $bad: the database is unchanged"
	"$SC" -d "$DB" -s "$T/msg" "$bad" 2>/dev/null
	is $? 111 "-s good and $bad: exit 111, nothing learnt"
	cmp -s "$DB" "$T/before.db"
	ok $? "-s good and $bad: the database is unchanged"
	"$SC" -d "$DB" -l "$bad" >/dev/null 2>&1
	is $? 111 "-l $bad: exit 111"
	"$SC" -d "$DB" -L "$bad" "$T/msg" 2>/dev/null
	is $? 111 "-L $bad: exit 111"
	"$SC" -d "$DB" -x 2 "$bad" "$T/msg" >/dev/null 2>&1
	is $? 111 "-x $bad: exit 111"
done

# in a folder an unreadable entry (here a socket, never opened) is skipped
mkdir "$T/dir"
cp "$T/msg" "$T/dir/1"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/dir/2"
"$SC" -d "$DB" -s "$T/dir" 2>"$T/err"
is $? 0 "a folder with a socket in it: trained"
grep -q 'messages=1 ' "$T/err"
ok $? "its one message learnt"

# no bytes is no message: an empty standard input or named file is not
# learnt (its structural tokens, no Date, no Subject, no links, are what
# most ham shares), a failure; an empty file in a folder is skipped
cp "$DB" "$T/before.db"
"$SC" -d "$DB" -s < /dev/null 2>"$T/err"
is $? 111 "-s with empty standard input: exit 111"
grep -q 'unable to learn standard input: empty' "$T/err"
ok $? "and says why"
: > "$T/empty"
"$SC" -d "$DB" -s "$T/empty" 2>/dev/null
is $? 111 "-s of an empty named file: exit 111"
cmp -s "$DB" "$T/before.db"
ok $? "the database is unchanged"
: > "$T/dir/3"
rm -f "$T/dir/2"
"$SC" -d "$DB" -s "$T/dir" 2>"$T/err"
is $? 0 "a folder with an empty file: trained"
grep -q 'messages=1 ' "$T/err" && grep -q 'warning: unable to learn .*dir/3: empty: skipped' "$T/err"
ok $? "the empty file skipped with a warning, the message learnt"
mkdir "$T/dir2"
cp "$T/msg" "$T/dir2/1"
"$SC" -d "$DB" -L "$T/empty" "$T/dir2" 2>/dev/null
is $? 111 "-L of an empty named file: exit 111"
"$SC" -d "$DB" -L "$T/dir" "$T/dir2" 2>"$T/err"
is $? 0 "-L of a folder with an empty file: trained"
grep -Eq 'event=learn .*messages=2( |$)' "$T/err"
ok $? "-L: the empty file skipped"
done_testing
