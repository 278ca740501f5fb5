#!/usr/bin/python3
# A message whose notice is in new/ but whose wakeup never came (queue-add
# killed between its link into new/ and its write to the trigger FIFO, or
# the FIFO removed or replaced while queue-run runs) is picked up once
# queue-run has had a quiet moment (at most a minute). Before, it waited
# for the next writer's wakeup or a restart, however long that was.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
box = env.add_user("u@example.test", "pw")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: one\n\nbody\n") == 0, "first queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 1, 20), "first delivered on its wakeup")
# no FIFO: queue-add's wakeup goes nowhere (its open fails)
os.rename(os.path.join(env.queue, "trigger"), env.path("trigger.away"))
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: two\n\nbody\n") == 0, "second queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 2 and not queue_files(env), 40),
     "second delivered without its wakeup")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
