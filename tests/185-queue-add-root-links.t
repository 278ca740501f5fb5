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
# And a queue directory root makes is given to the queue's owner through
# a descriptor of what root made, never by a name swapped meanwhile.
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

# mess/ missing: root's queue-add makes it (queue_init) and gives it to
# the queue's owner. Between the mkdir and that chown (held open here by
# strace's delay) the owner puts a hard link to a file of root's in its
# place (a kernel without fs.protected_hardlinks lets it; the test, root,
# makes it): lchown by name gave the owner root's file.
if not pmtest.strace_usable():
    t.ok(True, "# SKIP strace cannot trace here")
else:
    plant()
    os.rename(os.path.join(q, "mess"), os.path.join(q, "mess.real"))
    envelope = b"Fa@b.test\0Tu@example.test\0\0"
    r, w = os.pipe()
    os.write(w, envelope)
    os.close(w)
    # the second mkdir: the queue directory's (EEXIST), then mess/'s
    p = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-e", "trace=mkdir",
                          "-e", "inject=mkdir:delay_exit=1500000:when=2", pmtest.bin("queue-add")],
                         stdin=subprocess.PIPE, stdout=r, stderr=subprocess.PIPE, env=env.env)
    os.close(r)
    p.stdin.write(b"Subject: race\n\nbody\n")
    p.stdin.close()
    made = pmtest.wait_for(lambda: os.path.isdir(os.path.join(q, "mess")), 20, 0.005)
    if made:
        os.rmdir(os.path.join(q, "mess"))
        os.link(victim, os.path.join(q, "mess"))
    err = p.stderr.read().decode(errors="replace").strip()
    rc = p.wait(60)
    st = os.stat(victim)
    t.ok(made and (st.st_uid, st.st_gid) == (0, 0), "a hard link in the place of the mess/ root made: root's file "
         "stays root's (exit %d, %s)" % (rc, err), repr((made, st.st_uid, st.st_gid)))
    os.unlink(os.path.join(q, "mess"))
    os.rename(os.path.join(q, "mess.real"), os.path.join(q, "mess"))
t.done()
