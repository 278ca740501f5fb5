#!/bin/sh
# smtp-send to a real smarthost that wants AUTH (INTEROP.md, smtp-send(8)
# FILES): a throwaway Postfix whose SASL is a private Dovecot auth
# service. The route's password goes only inside TLS (verified, or
# tls=must for a self-signed one); a wrong password defers; a host
# without STARTTLS never sees AUTH; LOGIN when PLAIN is not offered.
# 61 covers the protocol against our own peer, 64 Postfix without AUTH.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix.sh"
[ -x /usr/sbin/postfix ] || skip_all "no postfix"
[ -x /usr/sbin/dovecot ] || skip_all "no dovecot"
[ "$(id -u)" = 0 ] || skip_all "Postfix and Dovecot instances need root"
trap 'pf_stop; [ -s "$T/dv/base/master.pid" ] && kill "$(cat "$T/dv/base/master.pid")"; _cleanup' EXIT

# Dovecot as an authentication service only: no protocol, its own
# directories, one user in a passwd-file, a socket for Postfix
DV=$T/dv
mkdir -p "$DV/base" "$DV/state"
echo 'relay@pf.test:{PLAIN}relay pw' > "$DV/passwd"
chmod 644 "$DV/passwd"
cat > "$DV/dovecot.conf" <<EOC
base_dir = $DV/base
state_dir = $DV/state
instance_name = pmtest322
protocols =
listen = 127.0.0.1
log_path = $DV/log
ssl = no
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DV/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$DV/home
}
service auth {
  unix_listener auth-client {
    path = $DV/auth
    mode = 0666
  }
}
service anvil {
  chroot =
}
EOC
/usr/sbin/dovecot -c "$DV/dovecot.conf" 2>"$T/dv.err" || skip_all "dovecot did not start: $(cat "$T/dv.err")"

pf_site
pf_init "$T/pf"
cat >> "$PF/etc/main.cf" <<EOC
virtual_mailbox_domains = example.org
virtual_mailbox_base = $T/vmail
virtual_mailbox_maps = inline:{x@example.org=x/}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_cert_file = $T/cert.pem
smtpd_tls_key_file = $T/key.pem
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/auth
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
EOC
tlsport=$(free_port) plainport=$(free_port) loginport=$(free_port)
cat >> "$PF/etc/master.cf" <<EOC
127.0.0.1:$tlsport inet n - n - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes
127.0.0.1:$plainport inet n - n - - smtpd -o smtpd_tls_security_level=none
127.0.0.1:$loginport inet n - n - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_mechanism_filter=login
EOC
pf_start; ok $? "Postfix started"
for i in $(seq 100); do
	/usr/bin/python3 -c "import socket;socket.create_connection(('127.0.0.1',$loginport),1).close()" 2>/dev/null && break
	sleep 0.1
done

# send PORT ROUTE-OPTIONS [CAFILE]: smtp-send's first output line
send() {
	echo "example.org:[127.0.0.1]:$1 $2" > "$T/conf/routes"
	chmod 600 "$T/conf/routes"
	printf 'Subject: via smarthost\n\nhello\n' |
		$BIN/smtp-send ${3:+-C "$3"} -w 20 -f a@sender.test example.org x@example.org 2>>"$T/err" | head -1
}
authed() { grep -c 'sasl_username=relay@pf.test' "$PF/maillog" 2>/dev/null; }

out=$(send $tlsport "tls=verify auth=relay@pf.test:relay pw" "$T/cert.pem")
case $out in "ok x@example.org 2.0.0 127.0.0.1 250 "*) r=0;; *) r=1;; esac
ok $r "tls=verify: authenticated and accepted ($out)"
is "$(authed)" 1 "Postfix logged the SASL login (PLAIN)"
grep -q 'sasl_method=PLAIN' "$PF/maillog"; ok $? "PLAIN was used"

out=$(send $tlsport "auth=relay@pf.test:relay pw")
case $out in "temp x@example.org "*) r=0;; *) r=1;; esac
ok $r "auth= without tls= is tls=verify: a certificate the system does not trust gets no password ($out)"
is "$(authed)" 1 "no login on that session"

out=$(send $tlsport "tls=must auth=relay@pf.test:relay pw")
case $out in "ok x@example.org "*) r=0;; *) r=1;; esac
ok $r "tls=must: the self-signed smarthost gets the password ($out)"

out=$(send $tlsport "tls=must auth=relay@pf.test:wrong pw")
case $out in "temp x@example.org 4.7.8 127.0.0.1 535 "*) r=0;; *) r=1;; esac
ok $r "a wrong password defers the mail ($out)"

n=$(authed)
out=$(send $plainport "tls=try auth=relay@pf.test:relay pw")
case $out in "temp x@example.org 4.7.0 "*) r=0;; *) r=1;; esac
ok $r "no STARTTLS offered: AUTH is not even tried ($out)"
grep -q 'authentication failed' "$PF/maillog" && [ "$(grep -c 'authentication failed' "$PF/maillog")" = 1 ]
ok $? "Postfix saw no AUTH in the clear"

out=$(send $loginport "tls=verify auth=relay@pf.test:relay pw" "$T/cert.pem")
case $out in "ok x@example.org "*) r=0;; *) r=1;; esac
ok $r "only LOGIN offered: LOGIN works ($out)"
grep -q 'sasl_method=LOGIN, sasl_username=relay@pf.test' "$PF/maillog"; ok $? "Postfix logged a LOGIN"
is "$(authed)" $((n + 1)) "one more login"

for i in $(seq 100); do
	[ "$(find "$T/vmail/x/new" -type f 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
is "$(find "$T/vmail/x/new" -type f | wc -l)" 3 "the three accepted messages were delivered"
grep -q 'password\|relay pw' "$T/err"; [ $? = 1 ]; ok $? "the password is not in smtp-send's log"
done_testing
