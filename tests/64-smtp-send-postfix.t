#!/bin/sh
# smtp-send to a real MTA: a throwaway Postfix (smtpd with STARTTLS,
# virtual delivery into a Maildir). Both sides are checked: smtp-send's
# result line, Postfix's log (TLS, the recipient), the Maildir file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix.sh"
[ -x /usr/sbin/postfix ] || skip_all "no postfix"
[ "$(id -u)" = 0 ] || skip_all "a Postfix instance needs root"
trap 'pf_stop; _cleanup' EXIT

port=$(free_port)
pf_site
pf_init "$T/pf"
cat >> "$PF/etc/main.cf" <<EOC
virtual_mailbox_domains = example.org
virtual_mailbox_base = $T/vmail
virtual_mailbox_maps = inline:{x@example.org=x/, y@example.org=x/}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/cert.pem
smtpd_tls_key_file = $T/key.pem
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
EOC
echo "127.0.0.1:$port inet n - n - - smtpd" >> "$PF/etc/master.cf"
pf_start; ok $? "Postfix started on 127.0.0.1:$port"
for i in $(seq 100); do
	/usr/bin/python3 -c "import socket;socket.create_connection(('127.0.0.1',$port),1).close()" 2>/dev/null && break
	sleep 0.1
done

echo "example.org:[127.0.0.1]:$port tls=verify" > "$T/conf/routes"
printf 'Subject: to postfix\nFrom: a@sender.test\n\n.leading dot\nbare\rcr and caf\303\251\nend\n' > "$T/msg"
out=$($BIN/smtp-send -C "$T/cert.pem" -f a@sender.test example.org x@example.org nobody@example.org < "$T/msg" 2>"$T/err"); rc=$?
is "$rc" 111 "one accepted, one refused by Postfix: exit 111"
echo "$out" | head -1 | grep -q '^ok x@example.org 2.0.0 127.0.0.1 250 Ok: queued as '; ok $? "ok line with Postfix's queue id"
echo "$out" | sed -n 2p | grep -q '^perm nobody@example.org 5.1.1 127.0.0.1 550 '; ok $? "unknown user: perm 5.1.1 from Postfix"
grep -q 'tls=yes' "$T/err"; ok $? "smtp-send used TLS (verified)"

f=""
for i in $(seq 100); do
	f=$(find "$T/vmail/x/new" -type f 2>/dev/null | head -1)
	[ -n "$f" ] && break
	sleep 0.1
done
ok "$([ -n "$f" ]; echo $?)" "message delivered into the Maildir"
[ -n "$f" ] && {
	sed -n '/^$/,$p' "$f" > "$T/got"
	printf '\n.leading dot\nbare\ncr and caf\303\251\nend\n' > "$T/want"
	cmp -s "$T/got" "$T/want"; ok $? "Maildir file has the body (dot unstuffed, lone CR a line end, 8-bit kept)"
	grep -q '^Subject: to postfix$' "$f"; ok $? "header kept"
	grep -q '(using TLSv1.[23]' "$f"; ok $? "Postfix's Received line shows TLS"
	grep -q '^Return-Path: <a@sender.test>' "$f"; ok $? "envelope sender"
}
grep -q 'Anonymous TLS connection established\|TLS connection established' "$PF/maillog"; ok $? "Postfix logged the TLS session"
done_testing
