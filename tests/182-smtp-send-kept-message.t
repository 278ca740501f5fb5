#!/usr/bin/python3
"""smtp-send sends a message of up to 64 KB from the encoding its first
scan made (the one that counts SIZE), not reading and encoding the file
a second time; a larger one is streamed from the file as before. Either
way the peer gets the same bytes: CRLF line ends (LF, CRLF and a lone CR
each end a line), leading dots doubled, lines over 998 bytes folded,
8-bit bytes untouched, and SIZE= is the size on the wire without the
stuffed dots (RFC 1870). In one -B batch over one connection, messages
of both kinds in turn: no bytes of one job's message in another's, at
the limit and on either side of it; a message given on stdin (a pipe,
spooled) too."""
import os, random, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
peer = SMTPPeer({})
rnd = random.Random(182)
KEEP = 65536


def message(size, seed):
    """size bytes: dot lines, lone CRs, CRLFs, a long line, 8-bit bytes;
    no line starts with a space (the unfolding below relies on it)"""
    r = random.Random(seed)
    parts = [b"Subject: m%d\n\n" % seed]
    n = len(parts[0])
    while n < size:
        k = r.randrange(8)
        piece = [b".dot\n", b"..two\n", b"cr\ronly\r", b"crlf\r\n", b"x" * 2100 + b"\n", b"\xc3\xa9t\xc3\xa9\n",
                 b"plain line %d\n" % n, b".\n"][k]
        parts.append(piece)
        n += len(piece)
    return b"".join(parts)[:size]


def wire(m):
    """what the peer must get, unstuffed and unfolded: CRLF line ends"""
    out, i = [], 0
    m = m.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if m and not m.endswith(b"\n"):
        m += b"\n"
    return m.replace(b"\n", b"\r\n")


def unstuff(d):
    lines = d.split(b"\r\n")
    ok = all(len(l) <= 998 for l in lines)
    lines = [l[1:] if l.startswith(b".") else l for l in lines]
    return b"\r\n".join(lines).replace(b"\r\n ", b""), ok


sizes = [100, 4000, KEEP - 1, KEEP, KEEP + 1, 200000, 3000, KEEP + 5000, 50]
msgs = []
for k, n in enumerate(sizes):
    m = message(n, k)
    path = env.path("m%d" % k)
    with open(path, "wb") as f:
        f.write(m)
    msgs.append((path, m))
jobs = "".join("%s 127.0.0.1 a@b.test x%d@x.test\n" % (p, k) for k, (p, m) in enumerate(msgs))
with open(env.path("routes"), "w") as f:
    f.write("127.0.0.1:[127.0.0.1]:%d\n" % peer.port)
r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-T", "no", "-r", env.path("routes")],
                   input=jobs.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=120)
t.eq(r.stdout.decode().count("ok "), len(msgs), "every message accepted")
t.eq(len(peer.sessions), 1, "... over one connection")
data = peer.sessions[0]["data"] if peer.sessions else []
mails = [c for c in peer.sessions[0]["cmds"] if c.startswith(b"MAIL")] if peer.sessions else []
for k, (path, m) in enumerate(msgs):
    d = data[k] if k < len(data) else b""
    body, short = unstuff(d)
    t.ok(body == wire(m), "message %d (%d bytes): the peer got it exactly" % (k, len(m)),
         "got %d bytes, want %d" % (len(body), len(wire(m))))
    t.ok(short, "... no line over 998 bytes")
    size = mails[k].split(b"SIZE=")[1].split()[0] if k < len(mails) and b"SIZE=" in mails[k] else b"?"
    stuffed = sum(1 for l in d.split(b"\r\n") if l.startswith(b"."))
    t.eq(size, str(len(d) - stuffed).encode(), "... SIZE= the size on the wire less the stuffed dots")

# one message on stdin through a pipe (spooled), small and large
for k in (1, 5):
    n = len(peer.sessions)
    r = subprocess.run([pmtest.bin("smtp-send"), "-T", "no", "-r", env.path("routes"), "-f", "a@b.test", "127.0.0.1",
                        "y@x.test"], input=msgs[k][1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env,
                       timeout=60)
    d = peer.sessions[n]["data"][0] if len(peer.sessions) > n and peer.sessions[n]["data"] else b""
    t.ok(r.returncode == 0 and unstuff(d)[0] == wire(msgs[k][1]), "stdin, %d bytes: the peer got it exactly" % len(msgs[k][1]),
         r.stdout)
t.done()
