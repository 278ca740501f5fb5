#!/usr/bin/python3
# Byte-exact round trip: 500 corpus messages delivered with deliver-maildir,
# each RETR (dot-unstuffed) equals the stored file with CRLF line ends, and
# LIST/STAT sizes equal those bytes.
import os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
N = 500
sample = pmtest.corpus_sample(N)
if len(sample) < N:
    t.skip_all("no corpus (../shared/corpus)")
env = pmtest.Env()
PW = "corpus"
md = env.add_user("u@example.test", PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
bad = 0
for i, f in enumerate(sample):
    with open(f, "rb") as fh:
        data = fh.read()
    r = env.run(["deliver-maildir", "-u", ids, md], input=data, check=False,
                env={"SENDER": "s@x.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})
    bad += r.returncode != 0
t.eq(bad, 0, "%d corpus messages delivered" % N)
names = sorted(os.listdir(os.path.join(md, "new")), key=lambda n: (int(n.split(".")[0]), n.split(",")[0]))


def crlf(b):
    b = b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return b


want = {}
for n in names:
    with open(os.path.join(md, "new", n), "rb") as fh:
        want[n.split(",")[0]] = crlf(fh.read())

port = env.server(["pop-serve", "-P", "-n"])
s = socket.create_connection(("127.0.0.1", port), 30)
f = s.makefile("rb")
f.readline()
s.sendall(b"USER u@example.test\r\nPASS " + PW.encode() + b"\r\nUIDL\r\nLIST\r\n")
f.readline()
t.ok(f.readline().startswith(b"+OK %d messages" % len(names)), "login sees every message")


def multi():
    out = []
    while True:
        l = f.readline()
        if l == b".\r\n" or l == b"":
            return out
        out.append(l)


f.readline()
uidl = [l.split()[1].decode() for l in multi()]
f.readline()
sizes = [int(l.split()[1]) for l in multi()]
t.eq(sorted(uidl), sorted(want), "UIDL lists every unique name")
t.eq(sizes, [len(want[u]) for u in uidl], "LIST sizes are the CRLF byte counts")
mismatch = []
B = 50
for start in range(0, len(uidl), B):
    batch = range(start, min(start + B, len(uidl)))
    s.sendall(b"".join(b"RETR %d\r\n" % (i + 1) for i in batch))
    for i in batch:
        head = f.readline()
        body = b"".join(l[1:] if l.startswith(b".") else l for l in multi())
        if not head.startswith(b"+OK") or body != want[uidl[i]]:
            mismatch.append(uidl[i])
t.ok(not mismatch, "every RETR equals the stored file with CRLF line ends", "%d differ, first: %r" % (len(mismatch), mismatch[:3]))
s.sendall(b"QUIT\r\n")
t.ok(f.readline().startswith(b"+OK"), "QUIT")
s.close()
t.done()
