#!/usr/bin/python3
# The queue file pool (queue/pool, see queue-add(8)): many writers at once
# take pooled files, and never two the same one; a pooled file that still
# holds an old message (a crash between pooling and emptying) is emptied
# before it shows up in mess/; a file that is not the writer's own, a
# symlink, a file with a second link, or a locked one is never taken.
import concurrent.futures, fcntl, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add

t = pmtest.TAP()
env = pmtest.Env()
Q = env.queue
N = 60 if pmtest.SANITIZED else 200
POOLED = 40

# a first message makes the queue; its directories then exist
FIRST = b"Subject: first\n\n" + b"old old old\n" * 2000
t.eq(queue_add(env, "s@x.test", ["r@y.test"], FIRST), 0, "queue made")
pool = os.path.join(Q, "pool")
t.ok(os.path.isdir(pool), "pool/ made with the queue")


def pooled(name, content=b""):
    p = os.path.join(pool, name)
    with open(p, "wb") as f:
        f.write(content)
    os.chmod(p, 0o640)
    return os.stat(p).st_ino


def messages():
    """{inode: (header fields, message bytes)} of complete files in mess/"""
    out = {}
    d = os.path.join(Q, "mess")
    for i in os.listdir(d):
        with open(os.path.join(d, i), "rb") as f:
            data = f.read()
        h = data[:64].split()
        if not h or h[0] != b"PMQ1":
            continue
        msgoff, msglen, envoff, envlen = (int(x) for x in h[1:5])
        out[os.stat(os.path.join(d, i)).st_ino] = (data, data[msgoff:msgoff + msglen],
                                                    len(data) == max(msgoff + msglen, envoff + envlen))
    return out


# pooled files, some still holding an old, complete-looking message
old = open(os.path.join(Q, "mess", os.listdir(os.path.join(Q, "mess"))[0]), "rb").read()
inodes = {pooled("1000.%d.1" % i, old if i % 2 else b"") for i in range(POOLED)}


def one(i):
    body = b"Subject: n%d\n\n" % i + (b"line %d\n" % i) * (i % 7 + 1)
    return queue_add(env, "s@x.test", ["r%d@y.test" % i], body), body


with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
    results = list(ex.map(one, range(N)))
t.ok(all(rc == 0 for rc, _ in results), "%d writers at once all queued" % N)
got = messages()
bodies = sorted(m for _, m, _ in got.values())
want = sorted([b for _, b in results] + [FIRST])
t.eq(len(got), N + 1, "one file per message: no file taken twice")
t.ok(bodies == want, "every message intact, nothing of an old one in any")
t.ok(all(data.count(b"PMQ1") == 1 and exact for data, _, exact in got.values()),
     "no byte of an old message left in a reused file (each ends where its header says)")
taken = inodes & set(got)
t.ok(len(taken) >= POOLED // 2, "pooled files were taken (%d of %d)" % (len(taken), POOLED))
t.eq(len(os.listdir(pool)), POOLED - len(taken), "what was taken left the pool")
t.eq(len(os.listdir(os.path.join(Q, "new"))), N + 1, "every message announced in new/")

# what must never be taken
for f in os.listdir(pool):
    os.unlink(os.path.join(pool, f))
target = os.path.join(env.dir, "victim")
with open(target, "wb") as f:
    f.write(b"do not touch\n")
os.symlink(target, os.path.join(pool, "1001.1.1"))
two = pooled("1001.2.1")
os.link(os.path.join(pool, "1001.2.1"), os.path.join(env.dir, "second-link"))
locked = pooled("1001.3.1")
holder = open(os.path.join(pool, "1001.3.1"), "rb")
fcntl.flock(holder, fcntl.LOCK_SH)
if os.getuid() == 0:
    foreign = pooled("1001.4.1")
    os.chown(os.path.join(pool, "1001.4.1"), 12345, 12345)
before = set(os.listdir(pool))
for i in range(5):
    queue_add(env, "s@x.test", ["r@y.test"], b"Subject: m%d\n\n" % i)
t.eq(set(os.listdir(pool)), before, "a symlink, a second link, a locked file%s: none taken"
     % (", someone else's file" if os.getuid() == 0 else ""))
t.eq(open(target, "rb").read(), b"do not touch\n", "nothing written through the symlink")
t.eq(os.stat(os.path.join(env.dir, "second-link")).st_size, 0, "nothing written into the twice-linked file")
holder.close()
queue_add(env, "s@x.test", ["r@y.test"], b"Subject: after\n\n")
t.ok("1001.3.1" not in os.listdir(pool), "once unlocked it is taken")
t.done()
