#!/bin/sh
# tls-serve, started as root, refuses a key that prog could read after the
# privilege drop: a 0640 key whose group is the gid tls-serve drops to
# (-u or $UID/$GID) would let prog, running with those ids, read the key
# file, which tls-serve(8) promises it cannot. Checked for the default pair
# and for CERTFILE:name / KEYFILE:name; a 0640 key of another group, and
# one in a directory prog cannot enter, still load. Needs root.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v openssl >/dev/null || skip_all "no openssl"
command -v setpriv >/dev/null || skip_all "no setpriv"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
	skip_all "openssl req failed"
setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$T" || skip_all "$T is out of reach of uid 65534"
chmod 644 "$T/cert.pem"
mk() { # mk NAME GROUP: a 0640 copy of the key
	cp "$T/key.pem" "$T/$1"
	chgrp "$2" "$T/$1" && chmod 0640 "$T/$1"
}
mk ours.key 65534
mk theirs.key 65533
mkdir -m 0700 "$T/private"
mk private/ours.key 65534

serve() { # serve ARGS...: tls-serve's exit status; stderr in $T/err
	env -u UID -u GID "$BIN/tls-serve" -c "$T/cert.pem" "$@" true </dev/null >/dev/null 2>"$T/err"
}
serve -k "$T/ours.key" -u 65534:65534
is $? 111 "a 0640 key of the gid prog gets (-u): refused"
grep -q "^tls-serve: fatal: unable to load $T/ours.key: readable by gid 65534" "$T/err"
ok $? "the fatal line names the key and the group ($(cat "$T/err"))"
env UID=65534 GID=65534 "$BIN/tls-serve" -c "$T/cert.pem" -k "$T/ours.key" true </dev/null >/dev/null 2>"$T/err"
is $? 111 "the same with \$UID/\$GID"
serve -k "$T/theirs.key" -u 65534:65534
is $? 0 "a 0640 key of another group: loads ($(cat "$T/err"))"
serve -k "$T/private/ours.key" -u 65534:65534
is $? 0 "prog's group, but in a directory prog cannot enter: loads ($(cat "$T/err"))"
serve -k "$T/ours.key"
is $? 0 "no drop (tls-serve keeps root): no check ($(cat "$T/err"))"
serve -k "$T/theirs.key" -u 65534:65534
is $? 0 "the default pair alone loads"
serve -k "$T/ours.key" -u 0:65534
is $? 0 "-u to uid 0: prog is root and reads what it likes, no check ($(cat "$T/err"))"
env "CERTFILE:localhost=$T/cert.pem" "KEYFILE:localhost=$T/ours.key" \
	"$BIN/tls-serve" -c "$T/cert.pem" -k "$T/theirs.key" -u 65534:65534 true </dev/null >/dev/null 2>"$T/err"
is $? 111 "a KEYFILE:name of prog's group: refused"
grep -q "unable to load $T/ours.key: readable by gid 65534" "$T/err"
ok $? "the fatal line names that key ($(cat "$T/err"))"
done_testing
