#!/usr/bin/python3
# smtp-recv roles and AUTH: open-relay vectors (THREATS I7), RELAYCLIENT,
# submission (AUTH before MAIL, owned senders), AUTH PLAIN/LOGIN paths.
import base64, glob, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, smtp_replies

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "secret pw")
env.add_user("v@example.test", "other")
env.run(["mailuser", "alias", "add", "sales@example.test", "u@example.test", "v@example.test"])
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
HERE = os.path.dirname(os.path.abspath(__file__))
QENV = {"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ, "TCPREMOTEIP": "192.0.2.9"}


def run(data, args=(), extra=None):
    e = dict(QENV)
    if extra:
        e.update(extra)
    r = env.run(["smtp-recv", *args], input=data, env=e, check=False, timeout=60)
    return r.stdout, r.stderr.decode("utf-8", "replace")


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s)


def queued():
    out = []
    for m in sorted(glob.glob(os.path.join(FAKEQ, "msg.*"))):
        out.append(open(m, "rb").read())
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    return out


# open relay vectors, MX role, no RELAYCLIENT
VECTORS = [(b"<u%other.test@example.test>", 550), (b'<"u@other.test"@example.test>', 550),
           (b"<@example.test:u@other.test>", 554), (b"<u@other.test@example.test>", 501),
           (b"<other.test!u@example.test>", 550), (b"<u@other.test>", 554), (b"<u@[127.0.0.1]>", 554),
           (b"<u@example.test.>", 501), (b"<u@EXAMPLE.TEST.other.test>", 554), (b'<"u%other"@example.test>', 550),
           (b"<u\\@other.test@example.test>", 501)]
for addr, want in VECTORS:
    out, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:" + addr + b"\r\n")
    t.eq(smtp_codes(out)[-1], want, "MX refuses %s" % addr.decode())
out, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@other.test>\r\nRCPT TO:<u%x@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<u@example.test>\r\n", extra={"RELAYCLIENT": ""})
t.eq(smtp_codes(out)[3:], [250, 550, 550, 250], "RELAYCLIENT relays; local checks stay")
out, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<postmaster>\r\n")
t.eq(smtp_codes(out)[3:], [554], "<postmaster> is postmaster@me: refused while me is not a local domain")
env.run(["mailuser", "domain", "add", "mx.example.test"])
env.run(["mailuser", "alias", "add", "postmaster@mx.example.test", "u@example.test"])
out, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<nobody@example.test>\r\n")
t.eq(smtp_codes(out)[3:], [250, 550], "<Postmaster> accepted as postmaster@me")
r = smtp_replies(out)[-1]
t.eq(r[1][0][:5], "5.1.1", "unknown local user -> 550 5.1.1")

# AUTH is TLS-only unless -P
out, _ = run(b"EHLO x\r\nAUTH PLAIN " + b64("\0u@example.test\0secret pw") + b"\r\n")
r = smtp_replies(out)[-1]
t.eq((r[0], r[1][0][:6]), (538, "5.7.11"), "AUTH in plaintext refused without -P")
P = ["-P"]
good = b64("\0u@example.test\0secret pw")
out, err = run(b"EHLO x\r\nAUTH PLAIN " + good + b"\r\nAUTH PLAIN " + good + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [235, 503], "AUTH PLAIN with initial response; AUTH twice refused")
t.ok("auth=u@example.test" in err and "secret" not in err, "auth user logged, password not")
out, _ = run(b"EHLO x\r\nAUTH PLAIN\r\n" + good + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [334, 235], "AUTH PLAIN with a 334 challenge")
out, _ = run(b"EHLO x\r\nAUTH PLAIN " + b64("u@example.test\0u@example.test\0secret pw") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [235], "authzid equal to authcid accepted")
out, err = run(b"EHLO x\r\nAUTH PLAIN " + b64("\0u@example.test\0wrong") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [535], "wrong password -> 535")
t.ok("wrong" not in err, "wrong password not logged")
t.ok("smtp-recv: event=login ip=192.0.2.9 user=u@example.test result=bad\n" in err,
     "a failed AUTH is logged at once, with address and user, for a log watcher")
out, err = run(b"EHLO x\r\nAUTH PLAIN " + b64("\0nobody@example.test\0x") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [535], "unknown user -> 535")
t.ok("event=login ip=192.0.2.9 user=nobody@example.test result=bad" in err, "unknown user's failure logged")
out, err = run(b"EHLO x\r\nAUTH PLAIN " + b64("v@example.test\0u@example.test\0secret pw") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [535], "foreign authzid -> 535")
t.ok("user=u@example.test result=authzid-refused" in err and "secret" not in err, "refused authzid logged, password not")
out, _ = run(b"EHLO x\r\nAUTH PLAIN !!!notbase64\r\nAUTH PLAIN " + b64("no nuls") + b"\r\nAUTH PLAIN " + b64("\0u@example.test\0a\rb") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [501, 501, 501], "malformed PLAIN responses -> 501")
out, _ = run(b"EHLO x\r\nAUTH PLAIN\r\n*\r\nAUTH CRAM-MD5\r\nAUTH\r\n", P)
t.eq(smtp_codes(out)[2:], [334, 501, 504, 504], "cancelled AUTH, unknown mechanism")
out, _ = run(b"AUTH PLAIN " + good + b"\r\n", P)
t.eq(smtp_codes(out)[1:], [503], "AUTH before EHLO")
out, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nAUTH PLAIN " + good + b"\r\n", P)
t.eq(smtp_codes(out)[-1], 503, "AUTH inside a transaction")
out, _ = run(b"EHLO x\r\nAUTH LOGIN\r\n" + b64("u@example.test") + b"\r\n" + b64("secret pw") + b"\r\n", P)
r = smtp_replies(out)
t.eq([c for c, _ in r][2:], [334, 334, 235], "AUTH LOGIN")
t.eq((r[2][1][0], r[3][1][0]), ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"), "LOGIN prompts")
out, _ = run(b"EHLO x\r\nAUTH LOGIN " + b64("u@example.test") + b"\r\n" + b64("secret pw") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [334, 235], "AUTH LOGIN with initial user")
out, err = run(b"EHLO x\r\nAUTH LOGIN\r\n" + b64("u@example.test") + b"\r\n" + b64("nope") + b"\r\n", P)
t.eq(smtp_codes(out)[2:], [334, 334, 535], "AUTH LOGIN wrong password")
t.ok("event=login ip=192.0.2.9 user=u@example.test result=bad" in err and "nope" not in err, "AUTH LOGIN failure logged")
out, _ = run(b"EHLO x\r\nAUTH LOGIN\r\n%%%\r\nAUTH LOGIN\r\n" + b64("u@example.test") + b"\r\nx=y\r\n", P)
t.eq(smtp_codes(out)[2:], [334, 501, 334, 334, 501], "AUTH LOGIN malformed base64")
bad = b"AUTH PLAIN " + b64("\0u@example.test\0bad") + b"\r\n"
out, err = run(b"EHLO x\r\n" + bad * 5, P + ["-a", "3"])
t.eq(smtp_codes(out)[2:], [535, 535, 421], "AUTH failures delayed then disconnect")
t.ok("end=authfail" in err, "authfail logged")

# submission role
SUB = ["-r", "submission", "-P"]
out, _ = run(b"EHLO x\r\nMAIL FROM:<u@example.test>\r\n", SUB)
t.eq(smtp_codes(out)[-1], 530, "submission: MAIL before AUTH -> 530")
out, _ = run(b"EHLO x\r\nMAIL FROM:<u@example.test>\r\n", ["-P"], extra={"SMTPROLE": "submission"})
t.eq(smtp_codes(out)[-1], 530, "SMTPROLE=submission from the environment")
A = b"EHLO x\r\nAUTH PLAIN " + good + b"\r\n"
out, _ = run(A + b"MAIL FROM:<u@example.test>\r\nRCPT TO:<far@other.test>\r\nRCPT TO:<v@example.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\nSubject: s\r\n\r\nx\r\n.\r\n", SUB)
t.eq(smtp_codes(out)[2:], [235, 250, 250, 250, 550, 354, 250], "submission relays after AUTH; unknown local still 550")
q = queued()
t.ok(len(q) == 1 and b"with ESMTPA" in q[0], "Received says ESMTPA")
for sender, want in ((b"<U@Example.Test>", 250), (b"<u+list@example.test>", 250), (b"<sales@example.test>", 250),
                     (b"<v@example.test>", 553), (b"<>", 553), (b"<u@other.test>", 553)):
    out, _ = run(A + b"MAIL FROM:" + sender + b"\r\n", SUB)
    t.eq(smtp_codes(out)[-1], want, "submission sender %s -> %d" % (sender.decode(), want))
out, _ = run(A + b"MAIL FROM:<v@example.test>\r\n", SUB + ["-F"])
t.eq(smtp_codes(out)[-1], 250, "-F: any sender after AUTH")
out, _ = run(A + b"MAIL FROM:<v@example.test>\r\nRCPT TO:<far@other.test>\r\n", ["-P"])
t.eq(smtp_codes(out)[-2:], [250, 250], "MX role: AUTH allows relaying too")

t.done()
