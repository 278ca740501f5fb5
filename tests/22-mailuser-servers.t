#!/usr/bin/python3
# A server sees each mailuser change at once: smtp-recv (one process per
# connection, as under tcpserver) accepts and refuses recipients and
# logins exactly as the latest add/del/passwd/alias left the tables, and
# answers 4xx, never 5xx, when a database is damaged.
import base64, os, shutil, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-recv")):
    t.skip_all("smtp-recv not built")
env = pmtest.Env()
HERE = os.path.dirname(os.path.abspath(__file__))
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
QENV = {"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ,
        "TCPREMOTEIP": "127.0.0.1", "PIPEMAIL_LOGIN_DELAY_MS": "1"}


def rcpt(addr):
    """the reply code to RCPT TO:<addr> in a fresh session"""
    data = ("EHLO c.test\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<%s>\r\nQUIT\r\n" % addr).encode()
    r = env.run(["smtp-recv"], input=data, env=QENV, check=False)
    codes = smtp_codes(r.stdout)
    return codes[3] if len(codes) > 3 else None


def login(user, password):
    """the reply code to AUTH PLAIN (plaintext allowed with -P)"""
    tok = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    data = ("EHLO c.test\r\nAUTH PLAIN %s\r\nQUIT\r\n" % tok).encode()
    r = env.run(["smtp-recv", "-P"], input=data, env=QENV, check=False)
    codes = smtp_codes(r.stdout)
    return codes[2] if len(codes) > 2 else None


t.eq(rcpt("alice@example.test"), 550, "unknown user refused")
env.add_user("alice@example.test", "first")
t.eq(rcpt("alice@example.test"), 250, "added user accepted at once")
t.eq(rcpt("Alice+news@Example.TEST"), 250, "user+detail, any case")
t.eq(login("alice@example.test", "first"), 235, "login with the password")
t.eq(login("alice@example.test", "wrong"), 535, "wrong password refused")

env.run(["mailuser", "passwd", "alice@example.test"], input=b"second\n")
t.eq(login("alice@example.test", "first"), 535, "old password refused after passwd")
t.eq(login("alice@example.test", "second"), 235, "new password accepted after passwd")

env.run(["mailuser", "alias", "add", "sales@example.test", "alice@example.test"])
t.eq(rcpt("sales@example.test"), 250, "alias accepted")
t.eq(rcpt("nobody@example.test"), 550, "no catch-all: unknown refused")
env.run(["mailuser", "alias", "add", "@example.test", "alice@example.test"])
t.eq(rcpt("nobody@example.test"), 250, "catch-all accepted")
env.run(["mailuser", "alias", "del", "@example.test"])
t.eq(rcpt("nobody@example.test"), 550, "catch-all removed")

env.run(["mailuser", "domain", "add", "second.test"])
t.eq(rcpt("x@second.test"), 550, "new local domain: unknown user refused, not relaying")
t.eq(rcpt("x@elsewhere.test"), 554, "foreign domain: relaying denied")

conf = env.conf
shutil.copy(os.path.join(conf, "users.cdb"), env.path("users.good"))
with open(os.path.join(conf, "users.cdb"), "wb") as f:
    f.write(b"\xff" * 100)
t.eq(rcpt("alice@example.test"), 451, "damaged users.cdb: temporary failure for RCPT")
t.eq(login("alice@example.test", "second"), 454, "damaged users.cdb: temporary failure for AUTH")
shutil.copy(env.path("users.good"), os.path.join(conf, "users.cdb"))
os.rename(os.path.join(conf, "domains.cdb"), env.path("domains.cdb"))
t.eq(rcpt("alice@example.test"), 451, "missing domains.cdb: temporary failure")
os.rename(env.path("domains.cdb"), os.path.join(conf, "domains.cdb"))

env.run(["mailuser", "del", "alice@example.test"])
t.eq(rcpt("alice@example.test"), 550, "deleted user refused at once")
t.eq(login("alice@example.test", "second"), 535, "deleted user cannot log in")
t.eq(rcpt("sales@example.test"), 250, "the alias stays until deleted")
t.done()
