#!/usr/bin/python3
"""smtp-send and an MX host that cannot take the message: the message
is over its SIZE, 8-bit that cannot be made 7-bit (test 276) with no
8BITMIME, or from a UTF-8 sender with no ASCII form and no SMTPUTF8.
The hosts of one domain can differ (a backup MX with other limits), so
the next host is tried, as after a refused greeting; every recipient
failed permanently at the first host before. When every host says it
cannot, the recipients still fail permanently with that reason (not a
deferral, which would only retry it for days). Two MX hosts on one
port: "bad" on 127.0.0.2 (preference 10), "good" on 127.0.0.1 (20)."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer
from dnsstub import DNSStub, TWO_MX, cannot_bind

t = pmtest.TAP()
env = pmtest.Env(domains=())
why = cannot_bind("127.0.0.2")
if why:
    t.skip_all(why)
dns = DNSStub(dict(TWO_MX))
FULL = [b"PIPELINING", b"8BITMIME", b"SMTPUTF8", b"SIZE 1000000"]
BIG = b"Subject: x\r\n\r\n" + b"y" * 3000 + b"\r\n"
RAW8 = b"Content-Transfer-Encoding: base64\r\n\r\ncaf\xc3\xa9\r\n"   # 8-bit where no encoding may go


def run(bad, good, msg, sender="a@b.test"):
    """bad, good: EHLO keywords. (rc, result fields, bad peer, good peer)"""
    port = pmtest.free_port()
    pb = SMTPPeer({"ext": bad}, host="127.0.0.2", port=port)
    pg = SMTPPeer({"ext": good}, host="127.0.0.1", port=port)
    e = dict(env.env)
    e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
    r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", "5", "-f", sender,
                        "two.test", "x@two.test"], input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=60)
    pb.close()
    pg.close()
    return r.returncode, r.stdout.decode(errors="replace").rstrip("\n").split(" ", 4), pb, pg


def delivered(p):
    return sum(len(s["data"]) for s in p.sessions)


cases = (
    ("over the first host's SIZE", [b"PIPELINING", b"8BITMIME", b"SIZE 1000"], BIG, "a@b.test", "5.3.4"),
    ("8-bit that cannot be made 7-bit, no 8BITMIME at the first host", [b"PIPELINING", b"SIZE 1000000"], RAW8,
     "a@b.test", "5.6.3"),
    ("a UTF-8 sender without an ASCII form, no SMTPUTF8 at the first host", [b"PIPELINING", b"8BITMIME"],
     b"Subject: x\r\n\r\nbody\r\n", "\u00e9@b.test", "5.6.7"),
)
for name, bad, msg, sender, enh in cases:
    rc, out, pb, pg = run(bad, FULL, msg, sender)
    t.eq((rc, out[0], out[3] if len(out) > 3 else None, delivered(pg), delivered(pb)),
         (0, "ok", "good.two.test", 1, 0), name + ": delivered by the next MX host")
    t.ok(not any(c.startswith(b"MAIL") for s in pb.sessions for c in s["cmds"]), "... no MAIL to the first")
    rc, out, pb, pg = run(bad, bad, msg, sender)
    t.eq((rc, out[0], out[2], out[3] if len(out) > 3 else None), (100, "perm", enh, "good.two.test"),
         name + ", at every host: failed permanently (%s), not deferred" % enh)

# a host that cannot, then one that is down: deferred (the one down may take it later)
port = pmtest.free_port()
pb = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 1000"]}, host="127.0.0.2", port=port)
e = dict(env.env)
e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", "5", "-f", "a@b.test",
                    "two.test", "x@two.test"], input=BIG, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=e, timeout=60)
pb.close()
t.eq((r.returncode, r.stdout.decode().split(" ")[0]), (111, "temp"),
     "over the first host's SIZE, the next one unreachable: deferred")

# -B: a small message, then a big one on the cached connection to the first host
port = pmtest.free_port()
pb = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 1000"]}, host="127.0.0.2", port=port)
pg = SMTPPeer({"ext": FULL}, host="127.0.0.1", port=port)
small, big = env.path("small"), env.path("big")
open(small, "wb").write(b"Subject: s\r\n\r\nsmall\r\n")
open(big, "wb").write(BIG)
r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-R", "-4", "-p", str(port), "-w", "5"],
                   input=("%s two.test a@b.test x@two.test\n%s two.test a@b.test y@two.test\n" % (small, big)).encode(),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
pb.close()
pg.close()
res = [l.split(" ")[:4] for l in r.stdout.decode().splitlines() if l != "."]
t.eq((r.returncode, res, pb.nconn, delivered(pb), delivered(pg)),
     (0, [["ok", "x@two.test", "2.0.0", "bad.two.test"], ["ok", "y@two.test", "2.0.0", "good.two.test"]], 1, 1, 1),
     "-B: the big message after a small one on the first host's connection goes to the next host")
dns.close()
t.done()
