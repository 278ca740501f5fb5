#!/usr/bin/python3
# A DSN round trip through a real MTA, over verified TLS both ways, with a
# UTF-8 recipient (INTEROP.md): smtp-send hands Postfix two messages with
# NOTIFY=SUCCESS (one to x@example.org with ENVID and ORCPT, one to
# ü@example.org under SMTPUTF8); Postfix delivers both and sends its
# success reports back through its relayhost, smtp-recv under tls-serve,
# which Postfix's own TLS client must verify. 45 covers Postfix relaying
# in without TLS, 64 smtp-send to Postfix without DSN or UTF-8.
import glob, os, pwd, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not os.path.exists("/usr/sbin/postfix") or os.getuid() != 0:
    t.skip_all("needs postfix and root")
try:
    pwd.getpwnam("postfix")
except KeyError:
    t.skip_all("no postfix user")
if not os.path.exists(pmtest.bin("tls-serve")):
    t.skip_all("tls-serve not built")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
ca = env.make_cert()
# tls-serve drops to the mailbox uid before smtp-recv
FAKEQ, QENV, U = env.fake_queue()
rport = env.server(["tls-serve", *U, pmtest.bin("smtp-recv"), "-r", "mx"], env=QENV)

pf = env.path("postfix")
vmail = env.path("vmail")
os.makedirs(os.path.join(vmail, "x"))
for d in (vmail, os.path.join(vmail, "x")):
    os.chown(d, 65534, 65534)
env.pfsh(pf, "pf_init")
pport = pmtest.free_port()
cf = os.path.join(pf, "etc", "main.cf")
text = open(cf).read().replace("smtp_tls_security_level = none\n", "")
# Postfix verifies smtp-recv's certificate for the name localhost
# (nexthop [127.0.0.1] is no name it would match)
text += ("virtual_mailbox_domains = example.org\nvirtual_mailbox_base = %s\n"
         "virtual_mailbox_maps = inline:{x@example.org=x/, \u00fc@example.org=x/}\n"
         "virtual_uid_maps = static:65534\nvirtual_gid_maps = static:65534\n"
         "smtputf8_enable = yes\nsmtpd_tls_security_level = may\n"
         "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\nsmtpd_tls_received_header = yes\n"
         "relayhost = [127.0.0.1]:%d\nsmtp_tls_security_level = verify\nsmtp_tls_CAfile = %s\n"
         "smtp_tls_verify_cert_match = localhost\nsmtp_tls_loglevel = 1\n"
         "queue_run_delay = 1s\nminimal_backoff_time = 1s\n"
         % (vmail, ca, os.path.join(env.conf, "tls", "key.pem"), rport, ca))
with open(cf, "w") as f:
    f.write(text)
if not env.postfix_start(pf, pport):
    t.skip_all("postfix did not start")

with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.org:[127.0.0.1]:%d tls=verify\n" % pport)


def send(rcpt, dsn, body):
    return env.run(["smtp-send", "-C", ca, "-f", "u@example.test", "-w", "20", "example.org", rcpt],
                   input=body, env={"PIPEMAIL_DSN": dsn}, check=False)


r = send("x@example.org", "RET=HDRS ENVID=rt319\nNOTIFY=SUCCESS ORCPT=rfc822;x@example.org\n",
         "Subject: round trip\nContent-Type: text/plain; charset=utf-8\n\nGr\u00fc\u00dfe\n".encode())
out = r.stdout.decode(errors="replace")
t.ok(r.returncode == 0 and out.startswith("ok x@example.org 2.0.0 127.0.0.1 250 "),
     "smtp-send: Postfix took the message", out + r.stderr.decode(errors="replace"))
t.ok("tls=yes" in r.stderr.decode(errors="replace"), "smtp-send verified Postfix's certificate", r.stderr)
r = send("\u00fc@example.org", "RET=HDRS ENVID=rt319u\nNOTIFY=SUCCESS\n", b"Subject: utf8 rcpt\n\nhi\n")
out = r.stdout.decode(errors="replace")
t.ok(r.returncode == 0 and out.startswith("ok \u00fc@example.org 2.0.0 "), "smtp-send: UTF-8 recipient taken",
     out + r.stderr.decode(errors="replace"))

# both delivered by Postfix, as sent
got = pmtest.wait_for(lambda: len(glob.glob(os.path.join(vmail, "x", "new", "*"))) >= 2, 30)
files = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(vmail, "x", "new", "*")))]
t.eq(len(files), 2, "Postfix delivered both messages")
plain = [m for m in files if b"Subject: round trip" in m]
utf8 = [m for m in files if b"Subject: utf8 rcpt" in m]
t.ok(plain and "\nGr\u00fc\u00dfe\n".encode() in plain[0] and b"with ESMTPS" in plain[0],
     "8-bit body over TLS", files)
t.ok(utf8 and "Delivered-To: \u00fc@example.org\n".encode() in utf8[0] and b"with UTF8SMTPS" in utf8[0],
     "UTF-8 recipient under SMTPUTF8 over TLS", files)

# Postfix's success reports come back into smtp-recv
pmtest.wait_for(lambda: len(glob.glob(os.path.join(FAKEQ, "msg.*"))) >= 2, 30)
reports = []
for p in sorted(glob.glob(os.path.join(FAKEQ, "msg.*"))):
    n = p.rsplit(".", 1)[1]
    reports.append((open(p, "rb").read(), open(os.path.join(FAKEQ, "env." + n), "rb").read()))
t.eq(len(reports), 2, "two success reports relayed back into smtp-recv")
t.ok(all(e.startswith(b"F\nTu@example.test\n") for m, e in reports), "null sender, to the original sender",
     [e for m, e in reports])
t.ok(all(re.search(rb"Received: from pf\.test \(.*\n\tby mx\.example\.test \(pipemail\) with (ESMTPS|UTF8SMTPS) \(TLSv1\.[23] ",
                   m) for m, e in reports), "Postfix relayed them over TLS", [m[:400] for m, e in reports])
rt = [m for m, e in reports if b"Original-Envelope-Id: rt319\n" in m]
t.ok(rt and b"Action: delivered" in rt[0] and b"Final-Recipient: rfc822; x@example.org" in rt[0] and
     b"Original-Recipient: rfc822;x@example.org" in rt[0], "report carries ENVID, ORCPT and the action", rt)
ru = [m for m, e in reports if b"Original-Envelope-Id: rt319u\n" in m]
t.ok(ru and b"with UTF8SMTPS" in ru[0] and "\u00fc@example.org".encode() in ru[0] and b"Action: delivered" in ru[0],
     "the UTF-8 recipient's report came back under SMTPUTF8", ru)
log = open(os.path.join(pf, "maillog"), errors="replace").read() if os.path.exists(os.path.join(pf, "maillog")) else ""
t.ok("Verified TLS connection established to 127.0.0.1[127.0.0.1]:%d" % rport in log,
     "Postfix verified smtp-recv's certificate", log[-1500:])
t.done()
