#!/bin/sh
# spamcheck -q (qmail-queue chain) and -p (delivery pipe), black-box with a
# recording next program: the message arrives with the headers added and
# otherwise unchanged, the envelope byte-exact, PIPEMAIL_DSN intact, the
# next program's exit code returned as is; spam above the reject cutoff is
# refused with 31 and the next program never runs; smtp-recv answers 5xx.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
cat > "$T/next" <<EOF
#!/bin/sh
cat > "$T/got.msg"
cat <&1 > "$T/got.env"
printf '%s' "\${PIPEMAIL_DSN-unset}" > "$T/got.dsn"
printf '%s %s' "\${SPAMCHECK_VERDICT-unset}" "\${SPAMCHECK_SCORE-unset}" > "$T/got.verdict"
exit \${NEXT_EXIT:-0}
EOF
chmod +x "$T/next"
printf 'From: a@example.test\nSubject: hello\n\nJust a note.\n' > "$T/msg"
printf 'Fa@example.test\0Tb@example.test\0Tc@example.test\0\0' > "$T/env"
gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
DB=$T/none.db

rm -f "$T"/got.*
PIPEMAIL_DSN='RET=HDRS ENVID=x+2By
NOTIFY=NEVER
' "$SC" -d "$DB" -q "$T/next" < "$T/msg" 1< "$T/env" 2>"$T/err"
is $? 0 "ham passes, next program's 0 returned"
cmp -s "$T/got.env" "$T/env"
ok $? "envelope passed byte-exact"
head -1 "$T/got.msg" | grep -q '^X-Spam-Score: '
ok $? "message carries X-Spam-Score on top"
tail -c +$(( $(wc -c < "$T/got.msg") - $(wc -c < "$T/msg") + 1 )) "$T/got.msg" | cmp -s - "$T/msg"
ok $? "message otherwise unchanged"
is "$(cat "$T/got.dsn")" "RET=HDRS ENVID=x+2By
NOTIFY=NEVER" "PIPEMAIL_DSN passed through"
is "$(cat "$T/got.verdict")" "unset unset" "queue mode sets no verdict variables"

for code in 53 31 91 111; do
	NEXT_EXIT=$code "$SC" -d "$DB" -q "$T/next" < "$T/msg" 1< "$T/env" 2>/dev/null
	is $? $code "next program's exit $code returned as is"
done

rm -f "$T"/got.*
printf 'Subject: buy\n\n%s\n' "$gtube" > "$T/spam"
"$SC" -d "$DB" -q "$T/next" < "$T/spam" 1< "$T/env" 2>"$T/err"
is $? 31 "GTUBE refused with QQ_PERM_REFUSED (31)"
[ ! -e "$T/got.msg" ]
ok $? "the next program did not run"
grep -q 'event=classify verdict=spam .*action=reject' "$T/err"
ok $? "refusal logged"
"$SC" -d "$DB" -R 1 -q "$T/next" < "$T/spam" 1< "$T/env" 2>/dev/null
is $? 0 "below the reject cutoff spam is passed on"
head -1 "$T/got.msg" | grep -q '^X-Spam-Flag: YES'
ok $? "passed spam is flagged"

"$SC" -d "$DB" -q "$T/no-such-program" < "$T/msg" 1< "$T/env" 2>/dev/null
is $? 71 "missing next program: temporary (71)"
printf 'x' > "$T/bad.db"
"$SC" -d "$T/bad.db" -q "$T/next" < "$T/msg" 1< "$T/env" 2>/dev/null
is $? 55 "unreadable database in the queue chain: 55"

# delivery pipe: the verdict travels in the environment
rm -f "$T"/got.*
"$SC" -d "$DB" -p "$T/next" < "$T/spam" 2>/dev/null
is $? 0 "-p returns the program's exit"
is "$(cat "$T/got.verdict")" "spam 1.0000" "SPAMCHECK_VERDICT and SPAMCHECK_SCORE set"
NEXT_EXIT=100 "$SC" -d "$DB" -p "$T/next" < "$T/msg" 2>/dev/null
is $? 100 "-p passes a permanent failure through"

# a large message through the chain (more than a pipe holds, past the prefix)
{ printf 'Subject: big\n\n'; i=0; while [ $i -lt 2000 ]; do printf '%0900d\n' $i; i=$((i + 1)); done; } > "$T/big"
"$SC" -m 65536 -d "$DB" -q "$T/next" < "$T/big" 1< "$T/env" 2>/dev/null
is $? 0 "1.8 MB message through the chain"
tail -c +$(( $(wc -c < "$T/got.msg") - $(wc -c < "$T/big") + 1 )) "$T/got.msg" | cmp -s - "$T/big"
ok $? "and unchanged"

# end to end: smtp-recv with spamcheck in front of the queue program
# (QMAILQUEUE names one program, so a two-line wrapper holds the chain)
if [ -x "$BIN/smtp-recv" ] && [ -x "$BIN/mailuser" ]; then
	cat > "$T/qq" <<EOF
#!/bin/sh
exec "$SC" -d "$DB" -q "$T/next"
EOF
	chmod +x "$T/qq"
	mkdir -p "$T/conf"
	PIPEMAIL_CONF=$T/conf "$BIN/mailuser" domain add example.test 2>/dev/null
	session() { # session BODYLINE: one SMTP transaction on a pipe
		printf 'EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@elsewhere.example>\r\nDATA\r\nSubject: x\r\n\r\n%s\r\n.\r\nQUIT\r\n' "$1" \
			| PIPEMAIL_CONF=$T/conf QMAILQUEUE=$T/qq RELAYCLIENT= "$BIN/smtp-recv" 2>/dev/null
	}
	rm -f "$T"/got.*
	session "$gtube" | grep -q '^55[0-9] '
	ok $? "smtp-recv refuses GTUBE mail after DATA with a 5xx"
	[ ! -e "$T/got.msg" ]
	ok $? "nothing reached the queue program"
	session "just a note" | grep -q '^250 .*queued'
	ok $? "ordinary mail is queued through spamcheck"
	grep -q '^X-Spam-Score: ' "$T/got.msg"
	ok $? "and arrives with the spamcheck headers"
fi
done_testing
