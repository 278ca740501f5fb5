#!/usr/bin/python3
# SMTP smuggling (THREATS I5): no end-of-data variant but CRLF.CRLF ends
# DATA; a smuggled MAIL/RCPT/DATA after one never becomes a second message.
import glob, os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
HERE = os.path.dirname(os.path.abspath(__file__))
QENV = {"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ}


def queued():
    out = []
    for m in sorted(glob.glob(os.path.join(FAKEQ, "msg.*"))):
        n = m.rsplit(".", 1)[1]
        out.append((open(m, "rb").read(), open(os.path.join(FAKEQ, "env." + n), "rb").read()))
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    return out


SEQS = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
        b"\r\n\x00.\r\n", b"\r\r\n.\r\r\n", b".\n", b"\n..\n", b"\r\n.\r\r\n"]
HEAD = b"EHLO x\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: s\r\n\r\nbody"
EVIL = b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nsmuggled\r\n"
TAIL = b"\r\n.\r\nQUIT\r\n"

port = env.server(["smtp-recv"], env=QENV)
for seq in SEQS:
    bare = seq not in (b"\r\n\x00.\r\n",)
    want = [220, 250, 250, 250, 354, 554 if bare else 250, 221]
    # over a pipe: everything in one buffer
    r = env.run(["smtp-recv"], input=HEAD + seq + EVIL + TAIL, env=QENV, check=False)
    t.eq(smtp_codes(r.stdout), want, "pipe %r: one reply for the whole message" % seq)
    q = queued()
    t.ok(all(b"Fevil" not in e for _, e in q), "pipe %r: smuggled MAIL never a transaction" % seq)
    if bare:
        t.eq(q, [], "pipe %r: refused, nothing queued" % seq)
    else:
        t.ok(len(q) == 1 and EVIL in q[0][0].replace(b"\n", b"\r\n"), "pipe %r: smuggled lines stay in the body" % seq)
    # over TCP, the sequence in its own segments
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    s.sendall(HEAD)
    for i in range(len(seq)):
        s.sendall(seq[i:i + 1])
        time.sleep(0.002)
    s.sendall(EVIL)
    s.sendall(TAIL)
    got = pmtest.smtp_read_all(s)
    t.eq(smtp_codes(got), want, "tcp %r split byte by byte: same replies" % seq)
    q = queued()
    t.ok(all(b"Fevil" not in e for _, e in q) and len(q) == (0 if bare else 1), "tcp %r: queue as expected" % seq)

t.done()
