#!/bin/sh
# spamcheck filter mode and training, black-box: the headers it adds, every
# other byte unchanged (LF and CRLF, streamed past the prefix), the
# verdict exit codes, GTUBE, learning and corrections, other filters'
# headers ignored, per-user databases, a corrupt database.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
DB=$T/sc.db
mkdir -p "$T/spam" "$T/ham"
i=0
while [ $i -lt 30 ]; do
	printf 'From: promo%d@deals.example\nTo: you@example.test\nSubject: CHEAP pills %d now\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nBuy cheap pills online, best price guaranteed.\nClick http://pills%d.example/buy now, limited offer %d!\n' \
		$i $i $((i % 5)) $i > "$T/spam/$i"
	printf 'From: colleague%d@work.example\nTo: you@example.test\nSubject: project meeting %d\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%d@work.example>\n\nHi, the project review meeting moves to room %d.\nPlease bring the agenda and the draft report.\n' \
		$i $i $i $i > "$T/ham/$i"
	i=$((i + 1))
done
"$SC" -d "$DB" -s "$T/spam" 2>"$T/err"
ok $? "train spam from a directory"
grep -q 'event=train .*messages=30 as=spam' "$T/err"
ok $? "training logs what it learned"
"$SC" -d "$DB" -n "$T/ham" 2>/dev/null
ok $? "train ham"
[ ! -e "$DB.tmp" ]
ok $? "no temporary file left behind"

spam='From: x@deals.example
Subject: cheap pills

Buy cheap pills online now, click http://pills1.example/buy limited offer!
'
ham='From: colleague1@work.example
Subject: meeting

The project review meeting, please bring the agenda and the draft report.
'
out=$(printf '%s' "$spam" | "$SC" -d "$DB" 2>/dev/null)
case $out in "X-Spam-Flag: YES
X-Spam-Score: "*"
X-Spam-Status: Yes, score="*) r=0 ;; *) r=1 ;; esac
ok $r "spam gets X-Spam-Flag, X-Spam-Score, X-Spam-Status on top"
printf '%s' "$spam" | "$SC" -d "$DB" 2>/dev/null | sed 1,4d > "$T/body"
printf '%s' "$spam" > "$T/orig"
cmp -s "$T/body" "$T/orig"
ok $? "the message follows unchanged"
printf '%s' "$ham" | "$SC" -d "$DB" 2>/dev/null | head -2 | grep -q '^X-Spam-Status: No, score='
ok $? "ham is marked No"
printf '%s' "$ham" | "$SC" -d "$DB" 2>/dev/null | grep -q '^X-Spam-Flag'
ok $((!$?)) "ham has no X-Spam-Flag"

printf '%s' "$spam" | "$SC" -e -d "$DB" >/dev/null 2>&1
is $? 1 "-e: spam exits 1"
printf '%s' "$ham" | "$SC" -e -d "$DB" >/dev/null 2>&1
is $? 0 "-e: ham exits 0"
printf 'Subject: zzz\n\nqqq www\n' | "$SC" -e -d "$DB" >/dev/null 2>&1
is $? 2 "-e: no evidence is unsure, exits 2"
printf 'Subject: zzz\n\nqqq www\n' | "$SC" -d "$DB" 2>/dev/null | grep -q '^X-Spam-Status: Unsure'
ok $? "unsure is marked Unsure"

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
printf 'Subject: meeting\r\n\r\nproject review %s\r\n' "$gtube" > "$T/gtube"
"$SC" -e -d "$T/none.db" < "$T/gtube" > "$T/gtube.out" 2>/dev/null
is $? 1 "GTUBE is spam even with no database"
head -1 "$T/gtube.out" | od -c | grep -q '\\r  \\n'
ok $? "CRLF message gets CRLF header lines"
tail -c +$(( $(head -3 "$T/gtube.out" | wc -c) + 1 )) "$T/gtube.out" | cmp -s - "$T/gtube"
ok $? "CRLF message otherwise byte-identical"
grep -q 'reasons=GTUBE' "$T/gtube.out"
ok $? "GTUBE named as the reason"

# streaming: a 3 MB message past a 64 KiB prefix comes out whole
{ printf 'Subject: big\nContent-Type: text/plain\n\n'; i=0; while [ $i -lt 3000 ]; do
	printf '%01000d\n' $i; i=$((i + 1)); done; printf 'tail\0with NUL\n'; } > "$T/big"
"$SC" -m 65536 -d "$DB" < "$T/big" 2>"$T/err" > "$T/big.out"
tail -c +$(( $(wc -c < "$T/big.out") - $(wc -c < "$T/big") + 1 )) "$T/big.out" | cmp -s - "$T/big" && head -1 "$T/big.out" | grep -q '^X-Spam-'

ok $? "3 MB message streamed through unchanged, NUL included"
grep -q 'truncated=yes' "$T/err"
ok $? "log says only a prefix was classified"

# other filters' verdicts are not evidence
s1=$(printf '%s' "$ham" | "$SC" -d "$DB" 2>/dev/null | sed -n '/^X-Spam-Score: /{s///p;q;}')
s2=$({ printf 'X-Spam-Flag: YES\nX-Spam-Status: Yes, score=99\nX-Bogosity: Spam, tests=bogofilter\nX-Spam-Score: 9\n'; printf '%s' "$ham"; } \
	| "$SC" -d "$DB" 2>/dev/null | sed -n '/^X-Spam-Score: /{s///p;q;}')
is "$s2" "$s1" "X-Spam-*/X-Bogosity headers do not change the score"

# corrections: learn a ham message as spam, then move it back
cp "$DB" "$T/before.db"
printf '%s' "$ham" | "$SC" -d "$DB" -s 2>/dev/null
printf '%s' "$ham" | "$SC" -d "$DB" -S -n 2>/dev/null
ok $? "retrain -Sn (was spam, is ham)"
printf '%s' "$ham" | "$SC" -d "$DB" -N 2>/dev/null
cmp -s "$DB" "$T/before.db"
ok $? "learn, correct and forget leave the database as it was"
printf '%s' "$ham" | "$SC" -d "$DB" -s -S 2>/dev/null
is $? 100 "-s with -S is a usage error"

# concurrency: trainers serialise on the lock (no update lost), and a
# classifier never sees a half-written database
cp "$DB" "$T/before.db"
for i in 1 2 3 4 5 6 7 8; do printf '%s' "$spam" | "$SC" -d "$DB" -s 2>/dev/null & done
wait
for i in 1 2 3 4 5 6 7 8; do printf '%s' "$spam" | "$SC" -d "$DB" -S 2>/dev/null & done
wait
cmp -s "$DB" "$T/before.db"
ok $? "8 parallel learns then 8 parallel forgets: no update lost"
( i=0; while [ $i -lt 15 ]; do "$SC" -d "$DB" -s "$T/spam" 2>/dev/null; i=$((i + 1)); done ) &
trainer=$!
bad=0 i=0
while [ $i -lt 60 ]; do
	printf '%s' "$ham" | "$SC" -d "$DB" >/dev/null 2>&1 || bad=$((bad + 1))
	i=$((i + 1))
done
wait $trainer
is $bad 0 "60 classifications during 15 retrainings all succeed"

# per-user database adds to the global one
"$SC" -d "$T/empty.db" -u "$T/user.db" -s "$T/spam" 2>/dev/null
"$SC" -d "$T/empty.db" -u "$T/user.db" -n "$T/ham" 2>/dev/null
[ -s "$T/user.db" ] && [ ! -e "$T/empty.db" ]
ok $? "-u trains the per-user database only"
printf '%s' "$spam" | "$SC" -e -d "$T/empty.db" -u "$T/user.db" >/dev/null 2>&1
is $? 1 "per-user database classifies"

# listing many messages in one process
"$SC" -d "$DB" -l "$T/spam/1" "$T/ham/1" 2>/dev/null > "$T/list"
awk '{print $1}' "$T/list" | tr '\n' ' ' > "$T/verdicts"
is "$(cat "$T/verdicts")" "spam ham " "-l lists verdicts"

# a corrupt database is a temporary failure, never a verdict
printf 'garbage that is not a database at all, long enough for a header....................' > "$T/bad.db"
printf '%s' "$ham" | "$SC" -d "$T/bad.db" >/dev/null 2>"$T/err"
is $? 111 "corrupt database: exit 111"
grep -q 'spamcheck: fatal: unable to open' "$T/err"
ok $? "and says why"
# an empty text part in a charset iconv converts (once a crash: every
# delivery attempt of such a message failed)
printf 'Subject: x\nContent-Type: text/plain; charset=koi8-r\n\n' | "$SC" -d "$DB" >"$T/out" 2>/dev/null
is $? 0 "an empty koi8-r body is classified"
grep -q '^X-Spam-Status: ' "$T/out"
ok $? "and gets its header"
"$SC" -d "$DB" -T comb=5 </dev/null >/dev/null 2>&1
is $? 100 "-T with a value past its range: usage, 100"
"$SC" -x 1 a b >/dev/null 2>&1
is $? 100 "bad option value: usage, 100"
"$SC" -d "$DB" -s "$T/no-such-maildir" 2>"$T/err"
is $? 111 "training from a path that does not exist: 111"
grep -q 'unable to read .*no-such-maildir' "$T/err"
ok $? "and says which"
done_testing
