#!/usr/bin/python3
# I2: a queue file whose header survived a crash but whose message blocks
# did not (zeros where the text was) is never delivered: the header carries
# a CRC-32 of message and envelope, and queue-run checks it. The file is
# kept (set aside under bad/ once old), never deleted; an intact message
# queued beside it is delivered as usual.
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
maildir = env.add_user("demo@example.test", "pw")
body = b"Subject: lost blocks\n\n" + b"the text a crash did not write\n" * 300
t.eq(queue_add(env, "x@example.org", ["demo@example.test"], body), 0, "queued")
ids = queue_files(env)
t.eq(len(ids), 1, "one queue file")
path = os.path.join(env.queue, "mess", ids[0])
with open(path, "rb") as f:
    head = f.read(64)
t.ok(len(head.split()) == 6 and head.startswith(b"PMQ1 "), "the header carries a fifth field, the CRC")
with open(path, "r+b") as f:
    f.seek(4096 + 4096)   # a block of the message, as an unwritten block reads after a crash
    f.write(b"\0" * 4096)
old = time.time() - 3 * 86400
os.utime(path, (old, old))
for n in os.listdir(os.path.join(env.queue, "new")):
    os.unlink(os.path.join(env.queue, "new", n))
t.eq(queue_add(env, "y@example.org", ["demo@example.test"], b"Subject: intact\n\nfine\n"), 0, "an intact message queued beside it")

log = open(env.path("queue-run.log"), "ab")
qr = env.start([pmtest.bin("queue-run"), "-l", "2"], stderr=log)
newdir = os.path.join(maildir, "new")
t.ok(wait_for(lambda: len(os.listdir(newdir)) >= 1, 20), "the intact message is delivered")
time.sleep(1)
got = [open(os.path.join(newdir, n), "rb").read() for n in os.listdir(newdir)]
t.eq(len(got), 1, "only one message in the Maildir")
t.ok(all(b"lost blocks" not in g for g in got), "the damaged message was not delivered")
t.ok(wait_for(lambda: os.path.exists(os.path.join(env.queue, "bad", ids[0])), 10), "it is set aside under bad/, not deleted")
qr.terminate()
qr.wait(10)
log.close()
with open(env.path("queue-run.log"), "rb") as f:
    t.ok(b"event=corrupt" in f.read(), "and logged as corrupt")
t.done()
