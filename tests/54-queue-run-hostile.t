#!/usr/bin/python3
# A queue file that queue-add finished (its header is there) but whose
# envelope no longer parses is not an unfinished write: queue-run must set
# it aside for the admin, never delete it, however old it is. A file with
# no header (queue-add died mid-write) is still removed once old.
# A user who swaps their Maildir for a symlink cannot make root-capable
# queue-run read a delivery file the user could not read themselves.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("demo@example.test", "pw")
t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: keep\n\nbody\n"), 0, "queued")
ids = queue_files(env)
t.eq(len(ids), 1, "one queue file")
path = os.path.join(env.queue, "mess", ids[0])
with open(path, "r+b") as f:
    data = f.read()
    i = data.index(b"\0Fx@example.org")
    f.seek(i + 1)
    f.write(b"Z")   # the sender field's tag: the envelope is now garbage
# an unfinished one: no header
half = os.path.join(env.queue, "mess", "1.2.3")
with open(half, "wb") as f:
    f.write(b"\0" * 64 + b"partial")
old = time.time() - 3 * 86400
os.utime(path, (old, old))
os.utime(half, (old, old))
for n in os.listdir(os.path.join(env.queue, "new")):
    os.unlink(os.path.join(env.queue, "new", n))

log = open(env.path("queue-run.log"), "ab")
qr = env.start([pmtest.bin("queue-run"), "-l", "2"], stderr=log)
t.ok(wait_for(lambda: not os.path.exists(half), 10), "the unfinished file is removed")
kept = [os.path.join(d, ids[0]) for d in ("mess", "bad")]
t.ok(any(os.path.exists(os.path.join(env.queue, k)) for k in kept), "the corrupt queue file is kept")
t.ok(os.path.exists(os.path.join(env.queue, "bad", ids[0])), "and set aside under bad/")
with open(os.path.join(env.queue, "bad", ids[0]) if os.path.exists(os.path.join(env.queue, "bad", ids[0])) else path, "rb") as f:
    t.ok(b"Subject: keep" in f.read(), "with its message intact")

# the Maildir a symlink to a directory only root can enter, holding a
# root-owned delivery file that forwards: it must not be obeyed
if os.geteuid() == 0:
    demo = env.path("mail", "demo@example.test")
    home = env.path("home", "evil")
    os.makedirs(home)
    os.chown(home, pmtest.MAILUID, pmtest.MAILGID)
    env.add_user("evil@example.test", "pw", maildir=os.path.join(home, "Maildir"))
    secret = env.path("secret")
    os.mkdir(secret, 0o700)
    with open(os.path.join(secret, ".qmail"), "w") as f:
        f.write("&demo@example.test\n")
    os.chmod(os.path.join(secret, ".qmail"), 0o644)
    if os.path.isdir(os.path.join(home, "Maildir")):
        import shutil
        shutil.rmtree(os.path.join(home, "Maildir"))
    os.symlink(secret, os.path.join(home, "Maildir"))
    t.eq(queue_add(env, "x@example.org", ["evil@example.test"], b"Subject: sneaky\n\nbody\n"), 0, "queued for evil")
    time.sleep(2)
    got = [f for f in pmtest.maildir_files(demo) if b"sneaky" in open(f, "rb").read()]
    t.eq(got, [], "a delivery file behind a symlink the user cannot follow is not obeyed")
    t.ok(any(open(os.path.join(env.queue, "mess", i), "rb").read().find(b"sneaky") >= 0 for i in queue_files(env)),
         "the message stays queued (temporary failure), not lost")
    # a users line edited by hand to uid 0: its delivery file's programs
    # must not run as root (deliver-maildir already refuses)
    rm = env.add_user("rootish@example.test", "pw")
    users = os.path.join(env.conf, "users")
    lines = open(users).read().splitlines()
    with open(users, "w") as f:
        for l in lines:
            if l.startswith("rootish@example.test:"):
                p = l.split(":")
                p[2], p[3] = "0", "0"
                l = ":".join(p)
            f.write(l + "\n")
    # mailuser refuses to compile it (a syntax error); a users.cdb made
    # some other way still must not make queue-run act as root
    t.eq(env.run(["mailuser", "rebuild"], check=False).returncode, 100, "mailuser rebuild refuses uid 0")
    cdb = os.path.join(env.conf, "users.cdb")
    dump = subprocess.run(["cdb", "-d", cdb], stdout=subprocess.PIPE, check=True).stdout
    recs = []
    for l in dump.splitlines():
        if not l:
            continue
        k, v = l.split(b":", 1)[1].split(b"->", 1)
        if k == b"rootish@example.test":
            p = v.split(b":")
            p[1], p[2] = b"0", b"0"
            v = b":".join(p)
        recs.append(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v))
    subprocess.run(["cdb", "-c", cdb], input=b"".join(recs) + b"\n", check=True)
    who = env.path("who")
    with open(os.path.join(rm, ".qmail"), "w") as f:
        f.write("|id -u > %s\n" % who)
    os.chmod(os.path.join(rm, ".qmail"), 0o644)
    t.eq(queue_add(env, "x@example.org", ["rootish@example.test"], b"Subject: asroot\n\nbody\n"), 0, "queued for a uid-0 user")
    time.sleep(2)
    t.ok(not os.path.exists(who), "no program of a uid-0 user runs (as root)")
else:
    t.diag("not root: skipping the symlinked Maildir check")
qr.terminate()
qr.wait(10)

# a queue file whose envelope follows the message (a big PIPEMAIL_DSN):
# a read error on it mid-message must not deliver a truncated copy (I2)
import shutil
if pmtest.strace_usable():
    big = b"Subject: whole\n\n" + (b"y" * 999 + b"\n") * 3000 + b"END\n"
    dsn = "RET=FULL ENVID=" + "x" * 6000 + "\n\n"
    t.eq(queue_add(env, "x@example.org", ["demo@example.test"], big, dsn=dsn), 0, "big-envelope message queued")
    demo = env.path("mail", "demo@example.test")
    before = set(pmtest.maildir_files(demo))
    qr = env.start(["strace", "-f", "-o", "/dev/null", "-e", "inject=sendfile,copy_file_range:error=EIO:when=2",
                    pmtest.bin("queue-run"), "-l", "1"], stderr=log, start_new_session=True)
    time.sleep(4)
    os.killpg(qr.pid, 15)   # queue-run too, not just strace
    qr.wait(10)
    new = [f for f in pmtest.maildir_files(demo) if f not in before and b"Subject: whole" in open(f, "rb").read()]
    t.ok(all(open(f, "rb").read().endswith(b"END\n") for f in new), "no truncated copy delivered (%d delivered)" % len(new))
    qr = env.start([pmtest.bin("queue-run"), "-l", "1"], stderr=log)
    t.ok(wait_for(lambda: [f for f in pmtest.maildir_files(demo) if f not in before and open(f, "rb").read().endswith(b"END\n")], 20),
         "delivered whole in the end")
    qr.terminate()
    qr.wait(10)
    # no in-kernel copy at all (EXDEV): the buffered copy delivers it whole
    before = set(pmtest.maildir_files(demo))
    t.eq(queue_add(env, "x@example.org", ["demo@example.test"], big, dsn=dsn), 0, "queued again")
    qr = env.start(["strace", "-f", "-o", "/dev/null", "-e", "inject=copy_file_range:error=EXDEV",
                    pmtest.bin("queue-run"), "-l", "1"], stderr=log, start_new_session=True)
    t.ok(wait_for(lambda: [f for f in pmtest.maildir_files(demo) if f not in before and open(f, "rb").read().endswith(b"END\n")], 20),
         "delivered whole without copy_file_range")
    os.killpg(qr.pid, 15)
    qr.wait(10)
else:
    t.diag("no usable strace: skipping the read-error check")
t.done()
