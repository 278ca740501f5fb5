#!/usr/bin/python3
# queue-add run by root (root's sendmail: cron mail, an admin's script)
# writes into a queue that belongs to smtp-recv's user, who may swap any
# of its directories for a link. lib/qwrite opened mess/, new/ and pool/
# through such a link: root created the message file in a directory only
# root may write (mess/), hard-linked its notice there (new/), and took a
# root-owned file from the link's target as a pool file, TRUNCATING it and
# moving it into the queue (pool/: any root file in any directory the
# owner names). Now a queue directory that is a link is never opened:
# mess/ or new/ a link is a temporary failure, pool/ a link is no pool.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (queue-add as root in a queue owned by another user)")
env = pmtest.Env()
q = pmtest.queue_of_mailuser(env)
root_only = env.path("root-only")
os.mkdir(root_only, 0o700)
victim = os.path.join(root_only, "victim")


def plant():
    with open(victim, "wb") as f:
        f.write(b"root's own file\n")
    os.chmod(victim, 0o600)


def run_as_root(subject):
    e = dict(env.env)
    envelope = b"Fa@b.test\0Tu@example.test\0\0"
    r, w = os.pipe()
    os.write(w, envelope)
    os.close(w)
    p = subprocess.Popen([pmtest.bin("queue-add")], stdin=subprocess.PIPE, stdout=r, stderr=subprocess.PIPE, env=e)
    os.close(r)
    _, err = p.communicate(b"Subject: " + subject + b"\n\nbody\n", timeout=60)
    return p.returncode, err.decode(errors="replace").strip()


def intact():
    return sorted(os.listdir(root_only)) == ["victim"] and open(victim, "rb").read() == b"root's own file\n"


plant()
rc, err = run_as_root(b"plain")
t.eq(rc, 0, "root's queue-add queues into the owner's queue (%s)" % err)

for d in ("pool", "mess", "new"):
    real = os.path.join(q, d + ".real")
    os.rename(os.path.join(q, d), real)
    os.symlink(root_only, os.path.join(q, d))
    plant()
    mess = real if d == "mess" else os.path.join(q, "mess")
    before = set(os.listdir(mess))
    rc, err = run_as_root(d.encode())
    t.ok(intact(), "%s/ a link: nothing created, taken or truncated through it (exit %d, %s)" % (d, rc, err),
         repr(sorted(os.listdir(root_only))))
    if d == "pool":
        t.eq(rc, 0, "pool/ a link: queued all the same, without the pool")
    else:
        t.eq(rc, 61, "%s/ a link: a temporary failure (qmail-queue's 61, the queue directory)" % d)
        t.eq(set(os.listdir(mess)), before, "%s/ a link: no message queued" % d)
    os.unlink(os.path.join(q, d))
    os.rename(real, os.path.join(q, d))
t.done()
