#!/usr/bin/python3
# queue-run locks a local job's queue file itself, in its main loop,
# before the job leaves it: so no queue-add may still hold that file's
# lock once its new/ notice is there. A writer that took a pooled file
# (locked exclusively against other writers) lets go of the lock before
# it links the notice, not at its close after two fsyncs: else queue-run
# would wait out the writer's fsyncs, and every other message with it.
# Here the writer's first fsync is held up (strace): its notice is not
# in new/ yet (it follows the syncs, test 131); meanwhile a second
# message must be delivered and finished, and both go exactly once.
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
HOLD = 12 if pmtest.SANITIZED else 6   # seconds the writer's fsync waits


def copies(subject):
    return subject_copies(demo, subject)


def queue_add_held(subject):
    """queue-add whose first fsync (the queue file's) waits HOLD seconds"""
    return pmtest.queue_add_traced(env, subject, "fsync:delay_enter=%d:when=1" % (HOLD * 1000000))


qr = env.start([pmtest.bin("queue-run"), "-l", "2"], stderr=log)
# finished messages fill pool/, from which the next writer takes its file
for i in range(3):
    t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: warm%d\n\nbody\n" % i), 0,
         "warm-up message %d queued" % i)
t.ok(wait_for(lambda: not queue_files(env) and len(os.listdir(os.path.join(env.queue, "pool"))) >= 1, 20),
     "warm-up delivered, its queue files pooled")
a = queue_add_held(b"held")
ids = wait_for(lambda: queue_files(env), 5)
t.eq(len(ids), 1, "the held writer's message is in mess/")
time.sleep(0.5)
t.ok(ids and not os.path.exists(os.path.join(env.queue, "new", ids[0])) and not copies(b"held"),
     "and no notice in new/ while its fsync waits (the notice follows the syncs)")
t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: free\n\nbody\n"), 0,
     "a second message queued (its trigger has queue-run scan new/)")
wait_for(lambda: (copies(b"free") == 1 and not [i for i in queue_files(env) if i not in ids]) or
                a.poll() is not None, HOLD + 10)
t.ok(a.poll() is None, "the second message delivered and finished while the writer still waits in fsync")
t.eq(a.wait(HOLD + 20), 0, "the held writer then ends well")
t.ok(wait_for(lambda: not queue_files(env), 20), "the queue drains")
t.eq((copies(b"held"), copies(b"free")), (1, 1), "each delivered exactly once")
t.done()
