#!/usr/bin/python3
# A fatal or warning line quotes data (an address the user typed, a file
# name, a peer's reply) on stderr, often a terminal. Bytes a terminal
# must not get as they are (lib/termsafe: controls, C1 such as CSI 0x9b
# raw or as UTF-8, bytes that are no UTF-8, bidi overrides) were written
# raw (8-bit) or as '?' (controls); they are \xHH now, as lib/log and
# queue-list write them. Printable UTF-8 goes as it is.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
os.makedirs(env.path("conf"))
with open(env.path("conf/me"), "w") as f:
    f.write("host.test\n")
ENV = dict(os.environ, PIPEMAIL_CONF=env.path("conf"), QMAILQUEUE="/bin/false")
SENDMAIL = os.path.join(pmtest.BIN, "sendmail")


def refuse(rcpt):
    r = subprocess.run([SENDMAIL, "-f", "s@x.test", "--", rcpt], input=b"Subject: x\n\nb\n", env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stderr


def safe(err):
    """one line, and nothing in it a terminal would act on"""
    body = err[:-1]
    if err.count(b"\n") != 1 or not err.endswith(b"\n"):
        return False
    if any(c < 0x20 or c == 0x7f for c in body):
        return False
    try:
        s = body.decode("utf-8")   # bytes that are no UTF-8 are unsafe too
    except UnicodeDecodeError:
        return False
    return not any(0x80 <= ord(ch) <= 0x9f or ch in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                   "\u2066\u2067\u2068\u2069" for ch in s)


cases = (
    ("ESC", b"a\x1b[2Jb@x.test", b"a\\x1b[2Jb@x.test"),
    ("raw CSI", b"a\x9b2Jb@x.test", b"a\\x9b2Jb@x.test"),
    ("CSI as UTF-8", b"a\xc2\x9b2Jb@@x.test", b"a\\xc2\\x9b2Jb@@x.test"),
    ("a bidi override", b"a\xe2\x80\xaeb@@x.test", b"a\\xe2\\x80\\xaeb@@x.test"),
    ("Latin-1", b"j\xf6rg@x.test", b"j\\xf6rg@x.test"),
    ("BEL", b"a\x07b@x.test", b"a\\x07b@x.test"),
)
for what, rcpt, shown in cases:
    rc, err = refuse(os.fsdecode(rcpt))
    t.eq(rc, 67, what + ": refused, 67")
    t.ok(safe(err), what + ": one line, no byte a terminal acts on", err)
    t.ok(b"unable to use " + shown + b": unusable address" in err, what + ": shown as \\xHH", err)

# (valid UTF-8 such as U+009B is a syntax error only beside "@@": RFC 6531
# allows any non-ASCII character in a mailbox)
# printable UTF-8 is shown as it is
rc, err = refuse("j\u00f6rg@@x.test")
t.eq(rc, 67, "a bad UTF-8 address: 67")
t.ok(b"unable to use j\xc3\xb6rg@@x.test: unusable address" in err, "printable UTF-8 shown as it is", err)
t.done()
