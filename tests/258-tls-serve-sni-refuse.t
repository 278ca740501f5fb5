#!/bin/sh
# tls-serve refuses to start (exit 111, a fatal line naming the variable or
# the file) rather than serve a wrong certificate for an SNI name: a file
# missing, a key that is not the certificate's, one half of a pair, an empty
# value, a name that is no host name, a key others may read. A good set
# starts. tls-serve -C checks the same and also that each CERTFILE:name's
# certificate covers name (a handshake per name, too dear per connection).
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip_all "no openssl"
cert() { # cert TAG NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2" -keyout "$T/$1.key" -out "$T/$1.pem" >/dev/null 2>&1 ||
		skip_all "openssl req failed"
	chmod 0600 "$T/$1.key"
}
cert def localhost
cert a mail.a.example
cert b mail.b.example
cert w '*.w.example'

serve() { # serve VAR=VALUE...: tls-serve's exit status; stderr in $T/err
	if [ -n "${CHECK-}" ]; then
		env -u UID -u GID "$@" "$BIN/tls-serve" -C -c "$T/def.pem" -k "$T/def.key" >"$T/out" 2>"$T/err"
	else
		env -u UID -u GID "$@" "$BIN/tls-serve" -c "$T/def.pem" -k "$T/def.key" true </dev/null >/dev/null 2>"$T/err"
	fi
}
refused() { # refused NAME MESSAGE VAR=VALUE...
	name=$1 msg=$2
	shift 2
	serve "$@"
	is $? 111 "$name: exit 111"
	grep -q '^tls-serve: fatal: unable to ' "$T/err" && grep -qF "$msg" "$T/err"
	ok $? "$name: says so ($(cat "$T/err"))"
}

serve "CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/a.key" \
	"CERTFILE:mail.b.example=$T/b.pem" "KEYFILE:mail.b.example=$T/b.key" \
	"CERTFILE:*.w.example=$T/w.pem" "KEYFILE:*.w.example=$T/w.key"
is $? 0 "three good pairs beside the default: starts ($(cat "$T/err"))"
CHECK=1 serve "CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/a.key" \
	"CERTFILE:*.w.example=$T/w.pem" "KEYFILE:*.w.example=$T/w.key"
is $? 0 "-C: good pairs pass the check ($(cat "$T/err"))"
is "$(cat "$T/out" "$T/err")" "" "-C: silent when all is well"
serve "CERTFILE:mail.a.example=$T/b.pem" "KEYFILE:mail.a.example=$T/b.key"
is $? 0 "a certificate that does not cover its name is found by -C, not at each connection"

CHECK=1 refused "mail.b.example's certificate under mail.a.example" \
	"unable to serve CERTFILE:mail.a.example: its certificate does not cover the name" \
	"CERTFILE:mail.a.example=$T/b.pem" "KEYFILE:mail.a.example=$T/b.key"
CHECK=1 refused "a certificate that does not cover the wildcard name" \
	"unable to serve CERTFILE:*.w.example: its certificate does not cover the name" \
	"CERTFILE:*.w.example=$T/a.pem" "KEYFILE:*.w.example=$T/a.key"
CHECK=1 refused "-C: a key that is not the certificate's" "failed to load private key" \
	"CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/b.key"
refused "the certificate file missing" "unable to load $T/none.pem: No such file or directory" \
	"CERTFILE:mail.a.example=$T/none.pem" "KEYFILE:mail.a.example=$T/a.key"
refused "the key file missing" "unable to load $T/none.key: No such file or directory" \
	"CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/none.key"
refused "another certificate's key" "unable to load CERTFILE:mail.a.example ($T/a.pem): failed to load private key" \
	"CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/b.key"
refused "a key where the certificate belongs" "unable to load CERTFILE:mail.a.example ($T/a.key): failed to load certificate" \
	"CERTFILE:mail.a.example=$T/a.key" "KEYFILE:mail.a.example=$T/a.key"
refused "CERTFILE:name alone" "unable to use CERTFILE:mail.a.example: no KEYFILE for that name" \
	"CERTFILE:mail.a.example=$T/a.pem"
refused "KEYFILE:name alone" "unable to use KEYFILE:mail.a.example: no CERTFILE for that name" \
	"KEYFILE:mail.a.example=$T/a.key"
refused "an empty CERTFILE:name" "unable to use CERTFILE:mail.a.example: empty" \
	"CERTFILE:mail.a.example=" "KEYFILE:mail.a.example=$T/a.key"
refused "a name that is no host name" "unable to use CERTFILE:mail_a.example: not a host name" \
	"CERTFILE:mail_a.example=$T/a.pem" "KEYFILE:mail_a.example=$T/a.key"
refused "an empty label" "FILE:mail..example: not a host name" \
	"CERTFILE:mail..example=$T/a.pem" "KEYFILE:mail..example=$T/a.key"
cp "$T/a.key" "$T/open.key"
chmod 0644 "$T/open.key"
refused "an SNI key other users may read" \
	"unable to load $T/open.key: mode 0644 lets other users read or write the key" \
	"CERTFILE:mail.a.example=$T/a.pem" "KEYFILE:mail.a.example=$T/open.key"
done_testing
