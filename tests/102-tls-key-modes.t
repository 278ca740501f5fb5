#!/bin/sh
# tls-serve refuses a private key that other users may read or write, or
# its group may write (exit 111, a fatal line naming the file and mode),
# checked on the file the path leads to; 0600, 0640 and 0400 load.
# tls-serve without -u and $UID runs prog at once: "true" exits 0 once
# the key is loaded.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip_all "no openssl"
mkdir -p "$T/conf/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-keyout "$T/key.pem" -out "$T/conf/tls/cert.pem" >/dev/null 2>&1 || skip_all "openssl req failed"
export PIPEMAIL_CONF="$T/conf"

serve() { # serve KEYPATH: tls-serve's exit status; stderr in $T/err
	env -u UID -u GID "$BIN/tls-serve" -k "$1" true </dev/null >/dev/null 2>"$T/err"
}
try() { # try MODE WANT-EXIT NAME
	cp "$T/key.pem" "$T/k$1.pem"
	chmod "$1" "$T/k$1.pem"
	serve "$T/k$1.pem"
	is $? "$2" "key mode $1: exit $2 $3"
}
try 0600 0 "(owner only)"
try 0400 0 "(owner read-only)"
try 0640 0 "(group-readable: Debian's ssl-cert group)"
try 0644 111 "(other may read)"
grep -q "^tls-serve: fatal: unable to load $T/k0644.pem: mode 0644 lets other users read or write the key" "$T/err"
ok $? "the fatal line names the file and the mode ($(cat "$T/err"))"
try 0604 111 "(other may read)"
try 0602 111 "(other may write)"
try 0660 111 "(group may write)"
grep -q "unable to load $T/k0660.pem: mode 0660 lets its group write the key" "$T/err"
ok $? "group-writable: says so ($(cat "$T/err"))"
try 0620 111 "(group may write, not read)"

# the mode that counts is the file's, behind a symlink (itself 0777)
ln -s "$T/k0644.pem" "$T/link-open"
serve "$T/link-open"; is $? 111 "a symlink to a 0644 key: refused"
ln -s "$T/k0600.pem" "$T/link-ok"
serve "$T/link-ok"; is $? 0 "a symlink to a 0600 key: loads"

# the default key, $PIPEMAIL_CONF/tls/key.pem
cp "$T/key.pem" "$T/conf/tls/key.pem"
chmod 0644 "$T/conf/tls/key.pem"
env -u UID -u GID "$BIN/tls-serve" true </dev/null >/dev/null 2>"$T/err"
is $? 111 "the default key path, 0644: refused"
chmod 0600 "$T/conf/tls/key.pem"
env -u UID -u GID "$BIN/tls-serve" true </dev/null >/dev/null 2>"$T/err"
is $? 0 "the default key path, 0600: loads"

# owned by another user (not root, not tls-serve's user): refused, whatever
# the mode, since that user could replace it
if [ "$(id -u)" = 0 ]; then
	cp "$T/key.pem" "$T/kother.pem"
	chmod 0600 "$T/kother.pem"
	chown "$MAILUID" "$T/kother.pem"
	serve "$T/kother.pem"
	is $? 111 "a 0600 key owned by uid $MAILUID: refused ($(cat "$T/err"))"
	grep -q "unable to load $T/kother.pem: owned by uid $MAILUID: make root its owner" "$T/err"
	ok $? "the fatal line says who owns it"
else
	ok 1 "# skip not root: cannot give the key to another user"
	ok 1 "# skip not root"
fi

# not a regular file: refused at once, no blocking open of a FIFO
mkfifo -m 0600 "$T/fifo"
timeout 10 env -u UID -u GID "$BIN/tls-serve" -k "$T/fifo" true </dev/null >/dev/null 2>"$T/err"
is $? 111 "a FIFO as the key: exit 111 ($(cat "$T/err"))"
done_testing
