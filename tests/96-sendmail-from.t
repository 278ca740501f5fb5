#!/bin/sh
# sendmail: the From: it adds when the message has none is a valid
# address: with the null sender (-f '<>' or -f '') the calling user's
# login@me, never `<>`.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/conf" "$T/q"
export PIPEMAIL_CONF="$T/conf"
echo "host.test" > "$T/conf/me"
cat > "$T/fakeq" <<'EOQ'
#!/bin/sh
cat > "$FAKEQ_DIR/msg"
cat <&1 > "$FAKEQ_DIR/env"
EOQ
chmod +x "$T/fakeq"
export QMAILQUEUE="$T/fakeq" FAKEQ_DIR="$T/q"
env0() { tr '\0' '|' < "$T/q/env"; }
me=$(id -un)
header() { sed '/^$/q' "$T/q/msg"; }

for f in '<>' ''; do
	printf 'Subject: bounce\n\nbody\n' | $BIN/sendmail -f "$f" r@x.test
	is "$(env0)" "F|Tr@x.test||" "-f '$f': the envelope sender stays null"
	from=$(header | grep '^From:')
	case "$from" in
	"From: $me@host.test" | "From: \""*"\" <$me@host.test>") ok 0 "-f '$f': From: is the calling user, $from" ;;
	*) ok 1 "-f '$f': From: is the calling user (got '$from')" ;;
	esac
done
printf 'Subject: bounce\n\nbody\n' | $BIN/sendmail -f '<>' -F 'Mail System' r@x.test
header | grep -qx "From: \"Mail System\" <$me@host.test>"; ok $? "-f '<>' -F NAME: the name with the calling user's address"
printf 'Subject: x\n\nbody\n' | $BIN/sendmail -f s@a.test r@x.test
header | grep -q '^From: .*s@a\.test'; ok $? "-f ADDRESS: From: still from the envelope sender"
printf 'From: a@b.test\nSubject: x\n\nbody\n' | $BIN/sendmail -f '<>' r@x.test
is "$(header | grep -c '^From:')" 1 "-f '<>' with a From: in the message: none added"

done_testing
