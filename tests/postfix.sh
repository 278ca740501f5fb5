# A throwaway Postfix instance for tests and benchmarks (sourced after
# lib.sh): its own config and queue under $1, loopback only, never the
# system's /etc/postfix/main.cf. The caller appends to $PF/etc/main.cf and
# $PF/etc/master.cf before pf_start. pf_stop is safe to call twice.
pf_init() { # pf_init DIR
	PF=$1
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	cat > "$PF/etc/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.test
mydomain = pf.test
myorigin = pf.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
smtp_tls_security_level = none
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
EOC
	cat > "$PF/etc/master.cf" <<'EOC'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
virtual   unix  -       n       n       -       -       virtual
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
EOC
}
pf_start() {
	/usr/sbin/postfix -c "$PF/etc" check >/dev/null 2>&1
	/usr/sbin/postfix -c "$PF/etc" start >/dev/null 2>&1
}
pf_stop() {
	[ -n "${PF:-}" ] && [ -f "$PF/etc/main.cf" ] && /usr/sbin/postfix -c "$PF/etc" stop >/dev/null 2>&1
	PF=
}
pf_site() { # pf_site: pipemail's control directory $T/conf (me: sender.test),
	# Postfix's virtual mailboxes $T/vmail/x, and a certificate for
	# localhost in $T/cert.pem and $T/key.pem
	mkdir -p "$T/conf" "$T/vmail/x" && chown -R 65534:65534 "$T/vmail"
	export PIPEMAIL_CONF="$T/conf"
	echo "sender.test" > "$T/conf/me"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
}
