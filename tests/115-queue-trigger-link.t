#!/usr/bin/python3
# The trigger FIFO replaced by a symbolic link (the queue belongs to the
# user smtp-recv runs as, INSTALL section 2, so that user can do it) must
# not make root write through it: queue-add run by root (queue-run queues
# every bounce and forward that way) wrote its wakeup byte, and
# queue-list run by root its request line, at the start of whatever file
# the link named. queue-run, at start, puts a FIFO back in its place.
import os, stat, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
user = env.add_user("user@example.test", "pw")
trig = os.path.join(env.queue, "trigger")
target = env.path("precious")
CONTENT = "root:x:0:0:root:/root:/bin/bash\n"
with open(target, "w") as f:
    f.write(CONTENT)

t.eq(queue_add(env, "s@example.test", ["user@example.test"], b"Subject: one\n\nbody\n"), 0, "queued")
one = queue_files(env)[0]
os.unlink(trig)
os.symlink(target, trig)

t.eq(queue_add(env, "s@example.test", ["user@example.test"], b"Subject: two\n\nbody\n"), 0,
     "queue-add works with the link in place")
t.eq(open(target).read(), CONTENT, "queue-add wrote nothing through the link")
two = [i for i in queue_files(env) if i != one][0]
r = env.run(["queue-list", "delete", two], check=False)
t.eq(r.returncode, 0, "queue-list deletes (no queue-run listens)")
t.eq(open(target).read(), CONTENT, "queue-list wrote nothing through the link")
t.eq(queue_files(env), [one], "the message is deleted")

logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: len(maildir_files(user)) == 1, 20), "queue-run delivers the queued message",
     open(logp).read())
t.ok(wait_for(lambda: stat.S_ISFIFO(os.lstat(trig).st_mode), 5), "the trigger is a FIFO again")
t.eq(queue_add(env, "s@example.test", ["user@example.test"], b"Subject: three\n\nbody\n"), 0, "queued")
t.ok(wait_for(lambda: len(maildir_files(user)) == 2, 20), "and the next message is delivered at once")
t.eq(open(target).read(), CONTENT, "the linked file is untouched")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
