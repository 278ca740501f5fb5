#!/bin/sh
# The delivery-file recipe from spamcheck(1), run as queue-run runs a
# program line (sh -c in the Maildir): spam lands in the Maildir++ .Junk
# folder, other mail in the inbox, headers added, exit 99 (delivered).
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] && [ -x "$BIN/deliver-maildir" ] || skip_all "spamcheck or deliver-maildir not built"
mkdir -p "$T/home"
cd "$T/home" || exit 1
recipe=$(cat <<'EOF'
spamcheck -p sh -c 'if [ "$SPAMCHECK_VERDICT" = spam ]; then deliver-maildir -c -f Junk ./; else deliver-maildir ./; fi && exit 99'
EOF
)
# as root (CI) deliver-maildir wants the mailbox owner: a shim adds -u
mkdir -p "$T/shim"
printf '#!/bin/sh\nexec "%s/deliver-maildir" -u %s:%s "$@"\n' "$BIN" "$MAILUID" "$MAILGID" > "$T/shim/deliver-maildir"
chmod +x "$T/shim/deliver-maildir"
[ "$(id -u)" = 0 ] || rm "$T/shim/deliver-maildir"
export PATH="$T/shim:$BIN:$PATH" SPAMCHECK_DB="$T/none.db" SENDER=a@example.test RECIPIENT=u@example.test DTLINE='Delivered-To: u@example.test'
mkdir -p Maildir/new Maildir/cur Maildir/tmp
chown -R "$MAILUID:$MAILGID" "$T/home" 2>/dev/null
cd Maildir || exit 1
printf 'Subject: x\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' | sh -c "$recipe" 2>/dev/null
is $? 99 "spam delivered (99: stop)"
is "$(ls .Junk/new 2>/dev/null | wc -l)" 1 "spam is in .Junk"
printf 'Subject: x\n\nhello\n' | sh -c "$recipe" 2>/dev/null
is $? 99 "ham delivered"
is "$(ls new | wc -l)" 1 "ham is in the inbox"
grep -q '^X-Spam-Status: Unsure' new/* && grep -q '^X-Spam-Flag: YES' .Junk/new/*
ok $? "both carry the spamcheck headers"
grep -qxF "|$recipe" "$top/man/spamcheck.1"
ok $? "the recipe tested is the one spamcheck(1) shows"
done_testing
