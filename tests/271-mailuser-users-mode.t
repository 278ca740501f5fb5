#!/bin/sh
# A users file written by hand (an editor, a script, umask 022) holds the
# password hashes readable by everyone; mailuser rebuild, which reads it,
# takes group and other access away (0600, as mailuser's own edits leave
# it), and the other text files keep their modes.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"
mode() { stat -c %a "$1"; }

printf 'example.test\n' >"$C/domains"
printf 'hand@example.test:$6$salt$abc:%s:%s:/nonexistent/Maildir:0\n' "$MAILUID" "$MAILGID" >"$C/users"
printf 'list@example.test: hand@example.test\n' >"$C/aliases"
chmod 644 "$C/domains" "$C/users" "$C/aliases"
"$M" rebuild; ok $? "rebuild"
is "$(mode "$C/users")" 600 "users made 0600"
is "$(mode "$C/users.cdb")" 640 "users.cdb 0640"
is "$(mode "$C/domains")" 644 "domains left alone"
is "$(mode "$C/aliases")" 644 "aliases left alone"

# a broken users file is refused, but its hashes are hidden all the same
echo "broken line" >>"$C/users"
chmod 604 "$C/users"
"$M" rebuild 2>/dev/null; is $? 100 "rebuild with a syntax error: 100"
is "$(mode "$C/users")" 600 "users made 0600 even so"

# already private: kept as it is (0400 stays 0400)
sed -i '$d' "$C/users"
chmod 400 "$C/users"
"$M" rebuild; ok $? "rebuild of a 0400 users"
is "$(mode "$C/users")" 400 "0400 kept"
done_testing
