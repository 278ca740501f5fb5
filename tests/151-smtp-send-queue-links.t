#!/usr/bin/python3
"""smtp-send -B, which queue-run runs as root, reads a queue file by the
path in its batch line. The queue's owner may rename anything in the
queue: a mess/ swapped for a link to the owner's own directory, holding a
link named like the queue file to a file only root may read, had that
file sent to the owner's recipient. A queue file is now read through
mess/ as smtp-send first opened it and never through a link; a file
outside the queue is read as before (smtp-send alone, from scripts)."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import MAILUID, MAILGID
from smtppeer import SMTPPeer

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a file only root may read)")
env = pmtest.Env(domains=())
q = env.queue
for d in ("", "mess", "new", "state", "tmp", "pool"):
    os.makedirs(os.path.join(q, d), exist_ok=True)
    os.chown(os.path.join(q, d), MAILUID, MAILGID)
secret = env.path("secret")
with open(secret, "wb") as f:
    f.write(b"Subject: x\n\nTOPSECRET root's own file\n")
os.chmod(secret, 0o600)
evil = env.path("evil")
os.mkdir(evil)
os.chown(evil, MAILUID, MAILGID)
mid = "1796000000.123456.4242"
p = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.org:[127.0.0.1]:%d tls=no\n" % p.port)


def batch(path):
    r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-w", "10"],
                       input=("%s:0:%d example.org a@b.test x@example.org\n" % (path, os.path.getsize(secret))).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.stdout.decode(errors="replace").split(" ")[0], r.stderr.decode(errors="replace")


def sent():
    return b"".join(d for s in p.sessions for d in s["data"])


# a link in the real mess/
os.symlink(secret, os.path.join(q, "mess", mid))
st, err = batch(os.path.join(q, "mess", mid))
t.eq((st, b"TOPSECRET" in sent()), ("temp", False), "a link in mess/: not read, temp (%s)" % err.strip())
os.unlink(os.path.join(q, "mess", mid))

# mess/ swapped for a link to the owner's directory
os.symlink(secret, os.path.join(evil, mid))
os.rename(os.path.join(q, "mess"), os.path.join(q, "mess.real"))
os.symlink(evil, os.path.join(q, "mess"))
st, err = batch(os.path.join(q, "mess", mid))
t.eq((st, b"TOPSECRET" in sent()), ("temp", False), "mess/ a link: nothing read through it, temp (%s)" % err.strip())

# a file outside the queue: smtp-send alone, as before
st, err = batch(secret)
t.eq((st, b"TOPSECRET" in sent()), ("ok", True), "a file outside the queue is sent as before (%s)" % err.strip())
p.close()
t.done()
