#!/usr/bin/python3
# queue-run's start-up reads mess/ itself (a notice consumed by a run that
# then died leaves mail there with none). A writer still finishing its
# file (header written, its syncs or its new/ link still to come) must be
# left alone until its notice is there: taken, the message was delivered
# and its file recycled under the writer, whose link then failed, so the
# client was told 4xx and sent the message again (a duplicate). Held here
# with strace: (a) a new file's first fsync, (b) a pooled file's link into
# new/ (the pool file's lock used to end at the close, before the link).
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, subject_copies, wait_for, queue_files

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("no usable strace")
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
log = open(env.path("queue-run.log"), "ab")
HOLD = 6 if pmtest.SANITIZED else 3   # seconds the writer is held


def start_while_held(name, subject, inject):
    a = pmtest.queue_add_traced(env, subject, inject)
    t.ok(wait_for(lambda: any(open(os.path.join(env.queue, "mess", i), "rb").read(4) == b"PMQ1"
                              for i in queue_files(env)), HOLD), name + ": the held writer's header is written")
    qr = env.start([pmtest.bin("queue-run")], stderr=log)
    time.sleep(1)   # its start-up scan of mess/ is done
    t.eq(subject_copies(demo, subject), 0, name + ": not delivered while the writer is held")
    t.eq(a.wait(HOLD + 30), 0, name + ": the writer ends well (its file was not taken from it)")
    t.ok(wait_for(lambda: subject_copies(demo, subject) == 1 and not queue_files(env), 20),
         name + ": then delivered, and the queue drains")
    time.sleep(0.5)
    t.eq(subject_copies(demo, subject), 1, name + ": exactly once")
    qr.terminate()
    qr.wait(10)


# (a) a new file (no pool yet): the writer's first fsync, the file's, held
# (the queue made beforehand: a writer that makes it syncs its directories first)
for d in ("mess", "new", "state", "tmp", "pool"):
    os.makedirs(os.path.join(env.queue, d), 0o750, exist_ok=True)
start_while_held("new file", b"held-new", "fsync:delay_enter=%d:when=1" % (HOLD * 1000000))

# a pool file for the next writer: one message delivered and recycled
qr = env.start([pmtest.bin("queue-run")], stderr=log)
t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: warm\n\nbody\n"), 0, "warm-up queued")
t.ok(wait_for(lambda: not queue_files(env) and os.listdir(os.path.join(env.queue, "pool")), 20),
     "warm-up delivered, its file pooled")
qr.terminate()
qr.wait(10)

# (b) a pooled file, closed, its link into new/ held
start_while_held("pooled file", b"held-pool", "linkat:delay_enter=%d:when=1" % (HOLD * 1000000))
t.done()
