#!/usr/bin/python3
# The Received line's "for" clause under SMTPUTF8 (RFC 6531 3.7.3 allows a
# UTF-8 mailbox there). smtp-recv wrote each 8-bit byte as '?', so mail
# to ü@example.org was traced "for <??@example.org>" (seen relaying to a
# real Postfix). Its printable UTF-8 characters are kept, never cut;
# header-unsafe ASCII, C1 controls and bidi overrides are still made safe.
import glob, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
QENV = {"QMAILQUEUE": os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp-fakeq"),
        "FAKEQ": FAKEQ, "RELAYCLIENT": ""}


def received_for(rcpt, mailparams=b" SMTPUTF8"):
    """send one message to rcpt; the Received line's for clause, or None"""
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    r = env.run(["smtp-recv"], input=b"EHLO x\r\nMAIL FROM:<a@b.test>" + mailparams + b"\r\nRCPT TO:<" + rcpt +
                b">\r\nDATA\r\nSubject: t\r\n\r\nx\r\n.\r\nQUIT\r\n", env=QENV, check=False)
    msgs = glob.glob(os.path.join(FAKEQ, "msg.*"))
    if len(msgs) != 1:
        t.diag(r.stdout.decode(errors="replace"))
        return None
    head = open(msgs[0], "rb").read().split(b"\n\n", 1)[0]
    i = head.find(b"\n\tfor <")
    return head[i + 7:head.index(b">;", i)] if i >= 0 else None


u = "\u00fc@example.org".encode()
t.eq(received_for(u), u, "UTF-8 recipient kept in the for clause")
t.eq(received_for(b"x@example.org", b""), b"x@example.org", "ASCII recipient without SMTPUTF8 as before")
q = '"a(b)\\\\c"@example.org'.encode()
t.eq(received_for(q), b'"a?b???c"@example.org', "comment and quoting characters still made safe under SMTPUTF8")
t.eq(received_for("x\u202eab\u0085@example.org".encode()), b"x???ab??@example.org",
     "a bidi override and a C1 control are not kept")
# a path past the 255 bytes the clause keeps (263), byte 255 the second of
# a two-byte character
long = b"l" * 64 + b"@" + b"a" * 10 + b"." + ("\u00e4" * 30 + ".").encode() * 3 + b"test"
got = received_for(long)
ok = got is not None and long.startswith(got) and len(got) <= 255
try:
    got.decode("utf-8")
except (AttributeError, UnicodeDecodeError):
    ok = False
t.ok(ok and len(long) > 255, "a long UTF-8 recipient is cut between characters", got)
t.done()
