#!/bin/sh
# spamcheck with an empty database path (-d "" or -u "": a wrapper's
# -d "$DB" with the variable unset). Opening "" fails with ENOENT, which
# reads as a missing database, that is an empty one: every message came
# out unsure and nothing was refused in the queue chain (exit 0, the mail
# passed on), with nothing said; training made ".lock" in the current
# directory and then failed. An empty path is a usage error now (100),
# in every mode, before anything is read, run or made.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"

printf 'Subject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' > "$T/gtube"
printf 'Subject: hello\n\nA short message.\n' > "$T/msg"
mkdir "$T/cwd"
cd "$T/cwd" || exit 1

for opt in d u; do
	for mode in "-e" "-q $T/next" "-p $T/next" "-s" "-n $T/msg" "-l $T/msg"; do
		rm -f "$T/ran"
		# shellcheck disable=SC2086
		"$SC" -$opt "" $mode < "$T/msg" > "$T/out" 2> "$T/err"
		is $? 100 "-$opt \"\" $mode: usage error (exit 100)"
		grep -q '^spamcheck: usage: ' "$T/err" && [ ! -s "$T/out" ] && [ -z "$(ls -A "$T/cwd")" ]
		ok $? "-$opt \"\" $mode: the usage line, nothing written or made"
	done
done
# the queue chain: a wrapper's unset variable no longer passes spam on
printf '#!/bin/sh\ntouch %s/ran\nexit 0\n' "$T" > "$T/next"
chmod +x "$T/next"
"$SC" -d "" -q "$T/next" < "$T/gtube" > /dev/null 2>&1
is $? 100 "-d \"\" -q: exit 100, not the next program's 0"
[ ! -e "$T/ran" ]
ok $? "-d \"\" -q: the next program never ran"
# a missing database (a real path) is still an empty one: GTUBE is spam
"$SC" -d "$T/none.db" -e < "$T/gtube" > /dev/null 2>&1
is $? 1 "-d with a missing file: an empty database, GTUBE is spam (1)"
"$SC" -d "$T/none.db" -u "$T/none2.db" -e < "$T/msg" > /dev/null 2>&1
is $? 2 "-d and -u missing files: unsure (2)"
done_testing
