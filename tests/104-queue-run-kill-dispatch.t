#!/usr/bin/python3
# queue-run killed just after it handed a local job to its worker, before
# the worker has taken the job up (the worker is stopped, so that moment
# lasts), then started again. The queue file must be locked from the
# moment the job left queue-run, so the new run waits for the old worker
# instead of delivering beside it: the message is delivered once, and the
# old worker's result (left in state/ID.done) finishes it.
import fcntl, os, signal, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, subject_copies, wait_for, queue_files, children

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
log = open(env.path("queue-run.log"), "ab")


def copies(subject):
    return subject_copies(demo, subject)


def locked(id):
    try:
        fd = os.open(os.path.join(env.queue, "mess", id), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


worker = None
qr = env.start([pmtest.bin("queue-run"), "-l", "1"], stderr=log)
try:
    t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: one\n\nfirst\n"), 0, "a first message queued")
    t.ok(wait_for(lambda: copies(b"one") == 1, 20), "delivered by the local worker")
    # and finished: its queue file gone, the worker idle again
    t.ok(wait_for(lambda: not queue_files(env), 10), "the first message finished")
    time.sleep(0.2)   # its "K" on the way to the worker: idle, it takes the next job
    kids = wait_for(lambda: children(qr.pid), 5)
    t.eq(len(kids), 1, "queue-run has one child, its local worker")
    worker = kids[0] if kids else None
    if worker:
        os.kill(worker, signal.SIGSTOP)
    t.eq(queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: two\n\nsecond\n"), 0,
         "a second message queued while the worker is stopped")
    ids = wait_for(lambda: queue_files(env), 5)
    t.eq(len(ids), 1, "it is in the queue")
    t.ok(ids and wait_for(lambda: locked(ids[0]), 5),
         "its queue file is locked once queue-run has handed it to the stopped worker")
    qr.kill()
    qr.wait()
    qr = env.start([pmtest.bin("queue-run"), "-l", "1"], stderr=log)
    time.sleep(1.5)
    t.eq(copies(b"two"), 0, "the new run leaves it to the old worker that holds it")
    if worker:
        os.kill(worker, signal.SIGCONT)
    t.ok(wait_for(lambda: not queue_files(env), 20), "then the queue drains")
    t.eq(copies(b"two"), 1, "the second message delivered exactly once")
    state = os.path.join(env.queue, "state")
    t.eq([f for f in os.listdir(state) if f.endswith(".done")] if os.path.isdir(state) else [], [],
         "the old worker's results were applied, nothing left behind")
finally:
    if worker:
        try:
            os.kill(worker, signal.SIGCONT)
        except ProcessLookupError:
            pass
t.done()
