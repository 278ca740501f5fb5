#!/usr/bin/python3
# queue-list run by root to list the queue (no action) read the queue's
# files by their paths: a state/ the queue's owner swapped for a link to a
# directory only root may read had root read a file there as the state of
# a queued message and print it (its reply text) to whoever ran the
# listing. Root's listing now holds the queue's directories open first
# (queue_pin), as its actions do, and reads only through them: a link in
# their place is refused (111), nothing read through it. A queue not
# written to yet (no mess/) still lists as empty. And smtp-send -B
# reads only a file that is the queue file its batch line names.
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer
from pmtest import queue_files

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
q = pmtest.queue_of_mailuser(env, subdirs=())


def listing():
    r = subprocess.run([pmtest.bin("queue-list")], env=env.env, capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace").strip()


rc, out, err = listing()
t.eq((rc, out.splitlines()[-1:]), (0, ["0 messages, 0 pending recipients"]), "no mess/ yet: an empty queue (%s)" % err)

q = pmtest.queue_of_mailuser(env)
pmtest.route_nowhere(env)
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["far@remote.test"], b"Subject: listed\n\nbody\n")
t.eq(rc, 0, "queued as the queue's owner (%s)" % err)
mid = queue_files(env)[0]
rc, out, err = listing()
t.ok(rc == 0 and mid in out and "<far@remote.test>" in out, "root lists the queue (%s)" % err, out)

root_only = env.path("root-only")
os.mkdir(root_only, 0o700)
with open(os.path.join(root_only, mid), "w") as f:
    f.write("PMS1 -\np 1 0 0 4.0.0 - ROOT-ONLY-SECRET\n")
os.chmod(os.path.join(root_only, mid), 0o600)
os.rename(os.path.join(q, "state"), os.path.join(q, "state.real"))
os.symlink(root_only, os.path.join(q, "state"))
rc, out, err = listing()
t.ok("ROOT-ONLY-SECRET" not in out, "state/ a link: nothing read through it (exit %d, %s)" % (rc, err), out)
t.eq(rc, 111, "state/ a link: the listing refused")
os.unlink(os.path.join(q, "state"))
os.rename(os.path.join(q, "state.real"), os.path.join(q, "state"))

# mess/ a link to a directory only root may read, holding a queue file
os.unlink(os.path.join(root_only, mid))
shutil.copy(os.path.join(q, "mess", mid), os.path.join(root_only, mid))
os.chmod(os.path.join(root_only, mid), 0o600)
os.rename(os.path.join(q, "mess"), os.path.join(q, "mess.real"))
os.symlink(root_only, os.path.join(q, "mess"))
rc, out, err = listing()
t.ok(mid not in out, "mess/ a link: nothing read through it (exit %d, %s)" % (rc, err), out)
t.eq(rc, 111, "mess/ a link: the listing refused")
os.unlink(os.path.join(q, "mess"))
os.rename(os.path.join(q, "mess.real"), os.path.join(q, "mess"))

# smtp-send -B, root's (queue-run's workers), reads mess/ID through the
# mess/ it holds and never through a symbolic link (test 151). A hard
# link is no symbolic link: where fs.protected_hardlinks is off the
# owner may link a file of root's as mess/ID (the test, root, makes it)
# just before the worker opens it, and the worker sent that file to the
# owner's recipient. A queue file root reads is now one whose header
# announces the very part the batch line names.
secret = os.path.join(root_only, "secret")
with open(secret, "wb") as f:
    f.write(b"Subject: x\n\nTOPSECRET root's own file\n" + b"padding\n" * 600)
os.chmod(secret, 0o600)
peer = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME"]})
with open(os.path.join(env.conf, "routes"), "a") as f:
    f.write("example.org:[127.0.0.1]:%d tls=no\n" % peer.port)


def batch(name, off, length):
    line = "%s:%d:%d example.org a@b.test x@example.org\n" % (os.path.join(q, "mess", name), off, length)
    r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-w", "10"], input=line.encode(), capture_output=True,
                       env=env.env, timeout=60)
    return r.stdout.decode(errors="replace").split(" ")[0], r.stderr.decode(errors="replace").strip()


def sent():
    return b"".join(d for s in peer.sessions for d in s["data"])


hdr = open(os.path.join(q, "mess", mid), "rb").read(64).split()
st, err = batch(mid, int(hdr[1]), int(hdr[2]))
t.ok(st == "ok" and b"Subject: listed" in sent(), "a queue file is sent (%s, %s)" % (st, err))
fake = "1796000000.123456.4242"
os.link(secret, os.path.join(q, "mess", fake))
st, err = batch(fake, 4096, 16)
t.eq((st, b"TOPSECRET" in sent() or b"padding" in sent()), ("temp", False),
     "mess/ID a hard link to root's file: nothing of it sent, temp (%s)" % err)
st, err = batch(fake, 0, 40)
t.eq((st, b"TOPSECRET" in sent()), ("temp", False), "nor from its start (%s)" % err)

# a worker that cannot hold the queue's directories (state/ a link) reads
# no queue file, and says why for each one, not only the first
os.rename(os.path.join(q, "state"), os.path.join(q, "state.real"))
os.symlink(root_only, os.path.join(q, "state"))
line = "%s:%d:%d example.org a@b.test x@example.org\n" % (os.path.join(q, "mess", mid), int(hdr[1]), int(hdr[2]))
r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-w", "10"], input=(line * 2).encode(), capture_output=True,
                   env=env.env, timeout=60)
out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
t.eq([l.split(" ")[0] for l in out.splitlines() if l != "."], ["temp", "temp"], "state/ a link: both jobs temp")
t.ok(err.count("Not a directory") == 2, "the reason told for each", err)
os.unlink(os.path.join(q, "state"))
os.rename(os.path.join(q, "state.real"), os.path.join(q, "state"))
peer.close()
t.done()
