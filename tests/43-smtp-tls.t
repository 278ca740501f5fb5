#!/usr/bin/python3
# smtp-recv under tls-serve: STARTTLS (and injection, THREATS I6), implicit
# TLS, TLS-only AUTH, Received with ESMTPSA, and real clients: python
# smtplib, swaks, msmtp, curl.
import base64, glob, os, shutil, smtplib, socket, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, smtp_replies

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("tls-serve")):
    t.skip_all("tls-serve not built")
env = pmtest.Env()
env.add_user("u@example.test", "secret pw")
ca = env.make_cert()
FAKEQ, QENV, U = env.fake_queue()

starttls = env.server(["tls-serve", *U, pmtest.bin("smtp-recv"), "-r", "submission"], env=QENV)
required = env.server(["tls-serve", "-r", *U, pmtest.bin("smtp-recv")], env=QENV)
implicit = env.server(["tls-serve", "-i", *U, pmtest.bin("smtp-recv"), "-r", "submission"], env=QENV)
ctx = pmtest.tls_context(ca)


def queued():
    out = [open(m, "rb").read() for m in sorted(glob.glob(os.path.join(FAKEQ, "msg.*")))]
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    return out


def readreply(s):
    """one whole reply from a socket"""
    data = b""
    while True:
        b = s.recv(1)
        if not b:
            return data
        data += b
        if data.endswith(b"\r\n"):
            last = data[:-2].rsplit(b"\r\n", 1)[-1]
            if len(last) >= 4 and last[3:4] == b" ":
                return data


MSG = b"Subject: tls\r\n\r\nhello\r\n"

# smtplib: STARTTLS, then AUTH, then a message
c = smtplib.SMTP("127.0.0.1", starttls, timeout=10)
code, text = c.ehlo("client.test")
t.ok(b"STARTTLS" in text and b"AUTH" not in text, "plaintext EHLO: STARTTLS offered, AUTH not")
c.starttls(context=ctx)
code, text = c.ehlo("client.test")
t.ok(b"AUTH PLAIN LOGIN" in text and b"STARTTLS" not in text, "after STARTTLS: AUTH offered, STARTTLS not")
c.login("u@example.test", "secret pw")
refused = c.sendmail("u@example.test", ["far@other.test"], MSG)
t.eq(refused, {}, "smtplib STARTTLS + AUTH + relay")
c.quit()
q = queued()
t.ok(len(q) == 1 and b"with ESMTPSA (TLSv1." in q[0], "Received: ESMTPSA with the TLS version", q[:1])

# STARTTLS injection: EHLO pipelined after STARTTLS in one write
s = socket.create_connection(("127.0.0.1", starttls), 10)
s.settimeout(10)
readreply(s)
s.sendall(b"EHLO x\r\n")
readreply(s)
s.sendall(b"STARTTLS\r\nEHLO evil\r\nAUTH PLAIN " + base64.b64encode(b"\0u@example.test\0secret pw") + b"\r\n")
r = readreply(s)
t.eq(smtp_codes(r), [220], "only the 220 for STARTTLS in plaintext")
ts = ctx.wrap_socket(s, server_hostname="localhost")
ts.sendall(b"NOOP\r\n")
t.eq(readreply(ts), b"250 2.0.0 Ok\r\n", "inside TLS the first reply answers our first command")
ts.sendall(b"MAIL FROM:<u@example.test>\r\n")
t.eq(smtp_codes(readreply(ts)), [503], "EHLO required again after STARTTLS")
ts.sendall(b"EHLO y\r\nMAIL FROM:<u@example.test>\r\n")
r = readreply(ts) + readreply(ts)
t.eq(smtp_codes(r), [250, 530], "the injected AUTH was discarded too")
ts.close()

# UCSPITLS=! (tls-serve -r): TLS before MAIL and AUTH
r = pmtest.smtp_raw(required, [b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nAUTH PLAIN AGI=\r\nQUIT\r\n"])
t.eq(smtp_codes(r), [220, 250, 530, 538, 221], "mandatory TLS: MAIL 530, AUTH 538")

# implicit TLS
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", implicit), 10), server_hostname="localhost")
s.settimeout(10)
readreply(s)
s.sendall(b"EHLO x\r\n")
r = readreply(s)
t.ok(b"AUTH PLAIN LOGIN" in r and b"STARTTLS" not in r, "implicit TLS: AUTH offered, no STARTTLS")
s.close()
c = smtplib.SMTP_SSL("127.0.0.1", implicit, timeout=10, context=ctx)
c.login("u@example.test", "secret pw")
t.eq(c.sendmail("u@example.test", ["far@other.test"], MSG), {}, "smtplib over implicit TLS")
c.quit()
q = queued()
t.ok(len(q) == 1 and b"with ESMTPSA (TLSv1." in q[0], "implicit TLS Received: ESMTPSA", q[:1])

# real clients
msgfile = env.path("msg.txt")
with open(msgfile, "wb") as f:
    f.write(b"From: u@example.test\r\nTo: far@other.test\r\nSubject: peer\r\n\r\nbody\r\n")
if shutil.which("swaks"):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(starttls), "--tls", "--tls-verify",
                        "--tls-ca-path", ca, "--tls-sni", "localhost", "--auth", "PLAIN", "--auth-user",
                        "u@example.test", "--auth-password", "secret pw", "--from", "u@example.test",
                        "--to", "far@other.test", "--ehlo", "swaks.test"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.ok(r.returncode == 0, "swaks STARTTLS + AUTH PLAIN", r.stdout.decode(errors="replace")[-800:])
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(starttls), "--tls", "--tls-verify",
                        "--tls-ca-path", ca, "--tls-sni", "localhost", "--auth", "LOGIN", "--auth-user",
                        "u@example.test", "--auth-password", "secret pw", "--from", "u@example.test",
                        "--to", "far@other.test", "--pipeline"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.ok(r.returncode == 0, "swaks STARTTLS + AUTH LOGIN, pipelined", r.stdout.decode(errors="replace")[-800:])
    t.eq(len(queued()), 2, "swaks messages queued")
if shutil.which("msmtp"):
    r = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % starttls, "--tls=on", "--tls-starttls=on",
                        "--tls-trust-file=" + ca, "--tls-host-override=localhost", "--auth=plain",
                        "--user=u@example.test", "--passwordeval=echo secret pw", "--from=u@example.test",
                        "--", "far@other.test"], input=open(msgfile, "rb").read(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.ok(r.returncode == 0, "msmtp (GnuTLS) STARTTLS + AUTH", r.stdout.decode(errors="replace")[-800:])
    t.eq(len(queued()), 1, "msmtp message queued")
if shutil.which("curl"):
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", ca, "--url", "smtp://localhost:%d" % starttls,
                        "-u", "u@example.test:secret pw", "--mail-from", "u@example.test", "--mail-rcpt",
                        "far@other.test", "--upload-file", msgfile], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.ok(r.returncode == 0, "curl STARTTLS + AUTH", r.stdout.decode(errors="replace")[-800:])
    r = subprocess.run(["curl", "-sS", "--cacert", ca, "--url", "smtps://localhost:%d" % implicit,
                        "-u", "u@example.test:secret pw", "--mail-from", "u@example.test", "--mail-rcpt",
                        "far@other.test", "--upload-file", msgfile], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.ok(r.returncode == 0, "curl implicit TLS + AUTH", r.stdout.decode(errors="replace")[-800:])
    q = queued()
    t.ok(len(q) == 2 and all(b"\nSubject: peer\n\nbody\n" in m for m in q), "curl messages queued intact")
log = env.log(starttls)
t.ok("secret" not in log and "event=session" in log, "no password in the server log")
t.done()
