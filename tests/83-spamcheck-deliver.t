#!/bin/sh
# The delivery recipe from spamcheck(1), run as written: spam lands in the
# Maildir++ .Junk folder, other mail in the inbox, headers added.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] && [ -x "$BIN/deliver-maildir" ] || skip_all "spamcheck or deliver-maildir not built"
mkdir -p "$T/home"
cd "$T/home" || exit 1
recipe='spamcheck -p sh -c '\''case $SPAMCHECK_VERDICT in spam) exec deliver-maildir -c -f Junk "$0";; *) exec deliver-maildir "$0";; esac'\'' ./Maildir/'
# as root (CI) deliver-maildir wants the mailbox owner: a shim adds -u
mkdir -p "$T/shim"
printf '#!/bin/sh\nexec "%s/deliver-maildir" -u %s:%s "$@"\n' "$BIN" "$MAILUID" "$MAILGID" > "$T/shim/deliver-maildir"
chmod +x "$T/shim/deliver-maildir"
[ "$(id -u)" = 0 ] || rm "$T/shim/deliver-maildir"
export PATH="$T/shim:$BIN:$PATH" SPAMCHECK_DB="$T/none.db" SENDER=a@example.test RECIPIENT=u@example.test DTLINE='Delivered-To: u@example.test'
mkdir -p Maildir/new Maildir/cur Maildir/tmp
chown -R "$MAILUID:$MAILGID" "$T/home" 2>/dev/null
printf 'Subject: x\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' | sh -c "$recipe" 2>/dev/null
is $? 0 "spam delivered"
is "$(ls Maildir/.Junk/new 2>/dev/null | wc -l)" 1 "spam is in .Junk"
printf 'Subject: x\n\nhello\n' | sh -c "$recipe" 2>/dev/null
is $? 0 "ham delivered"
is "$(ls Maildir/new | wc -l)" 1 "ham is in the inbox"
grep -q '^X-Spam-Status: Unsure' Maildir/new/* && grep -q '^X-Spam-Flag: YES' Maildir/.Junk/new/*
ok $? "both carry the spamcheck headers"
done_testing
