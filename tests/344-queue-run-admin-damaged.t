#!/usr/bin/python3
# queue-list's actions on a message whose text is damaged (its CRC wrong)
# while queue-run runs: queue-list hands them to queue-run, which cannot
# load such a file as mail and dropped the request without a word (the
# listing shows the message, so an admin would try). Now a delete removes
# it, as queue-list does with no queue-run (test 342); a retry or bounce,
# which can neither deliver nor quote it, is logged as refused.
import os, signal, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, queue_files, wait_for

t = pmtest.TAP()
env = pmtest.Env()
body = b"Subject: big\n\n" + b"the text of the message, long enough\n" * 400
t.eq(queue_add(env, "s@example.org", ["r@remote.test"], body), 0, "queued")
mid = queue_files(env)[0]
with open(os.path.join(env.queue, "mess", mid), "r+b") as f:
    f.seek(4096 + 1000)
    f.write(b"\0" * 512)
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: "event=start" in open(logp, errors="replace").read(), 20), "queue-run started")


def log():
    with open(logp, errors="replace") as f:
        return f.read()


def ql(*args):
    r = env.run(["queue-list"] + list(args), check=False)
    return r.returncode, r.stderr.decode()


for act in ("retry", "bounce"):
    rc, err = ql(act, mid)
    t.ok(rc == 0, "%s handed to queue-run" % act, err)
    line = "event=admin id=%s action=%s result=refused-damaged" % (mid, act)
    t.ok(wait_for(lambda: line in log(), 20), "%s of a damaged text: logged as refused" % act, log())
t.ok(mid in queue_files(env), "the file still there")
rc, err = ql("delete", mid)
t.ok(rc == 0, "delete handed to queue-run", err)
t.ok(wait_for(lambda: "event=admin id=%s action=delete result=deleted" % mid in log(), 20),
     "delete of a damaged text: done and logged", log())
t.ok(wait_for(lambda: mid not in queue_files(env), 10), "the file gone")
t.ok(not os.path.exists(os.path.join(env.queue, "state", mid)), "its state with it")
qr.send_signal(signal.SIGTERM)
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
