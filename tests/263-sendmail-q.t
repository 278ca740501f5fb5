#!/bin/sh
# sendmail -q flushes the queue as Postfix's does (postqueue -f): it runs
# "queue-list retry all" from its own directory; -q with an interval
# (a queue daemon's period) does nothing and exits 0; -qR and the like
# are usage errors. A copy of sendmail beside a stand-in queue-list that
# records its arguments.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/b"
cp "$BIN/sendmail" "$T/b/sendmail"
cat > "$T/b/queue-list" <<EOS
#!/bin/sh
printf '%s\n' "\$*" > "$T/args"
exit 7
EOS
chmod +x "$T/b/queue-list"
"$T/b/sendmail" -q < /dev/null
is "$?" 7 "-q: the queue program's exit status is sendmail's"
is "$(cat "$T/args" 2>/dev/null)" "retry all" "-q runs queue-list retry all"
rm -f "$T/args"
"$T/b/sendmail" -q15m < /dev/null
is "$?" 0 "-q15m: exit 0"
[ ! -e "$T/args" ]; ok $? "-q15m runs nothing"
"$T/b/sendmail" -qRexample.test < /dev/null 2>/dev/null
is "$?" 64 "-qR: usage error"
"$T/b/sendmail" -bp < /dev/null
is "$(cat "$T/args" 2>/dev/null)" "" "-bp still lists (queue-list with no arguments)"
done_testing
