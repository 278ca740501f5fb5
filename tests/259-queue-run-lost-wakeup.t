#!/usr/bin/python3
# A message whose notice is in new/ but whose wakeup never came (queue-add
# killed between its link into new/ and its write to the trigger FIFO, or
# the FIFO removed or replaced while queue-run runs) is picked up once
# queue-run has had a quiet moment (at most a minute). Before, it waited
# for the next writer's wakeup or a restart, however long that was.
# And a message queue-run could not load when its wakeup came (out of
# descriptors, out of memory) keeps its notice for the next look: before,
# the notice was removed first and the message sat in mess/ untried until
# a restart, while mail queued after it went out.
import os, re, resource, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
box = env.add_user("u@example.test", "pw")
logp = env.path("qr.log")


def log():
    return open(logp, "rb").read().decode(errors="replace")


qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: one\n\nbody\n") == 0, "first queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 1, 20), "first delivered on its wakeup")
# no FIFO: queue-add's wakeup goes nowhere (its open fails)
os.rename(os.path.join(env.queue, "trigger"), env.path("trigger.away"))
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: two\n\nbody\n") == 0, "second queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 2 and not queue_files(env), 40),
     "second delivered without its wakeup")
os.rename(env.path("trigger.away"), os.path.join(env.queue, "trigger"))

# out of descriptors for the load: one free for new/'s listing, none after
fds = set(int(f) for f in os.listdir("/proc/%d/fd" % qr.pid))
free = [n for n in range(4096) if n not in fds][:2]
old = resource.prlimit(qr.pid, resource.RLIMIT_NOFILE)
resource.prlimit(qr.pid, resource.RLIMIT_NOFILE, (free[1], old[1]))
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: three\n\nbody\n") == 0, "third queued")
t.ok(wait_for(lambda: re.search(r"load.*: [Tt]oo many open files", log()), 20),
     "its failed load is logged", log())
resource.prlimit(qr.pid, resource.RLIMIT_NOFILE, old)
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: four\n\nbody\n") == 0, "fourth queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 4 and not queue_files(env), 40),
     "third delivered too, not only the fourth",
     "%d delivered, queue %s" % (len(maildir_files(box)), queue_files(env)))
# a notice whose message is gone (finished since) is no failure: it goes
stale = os.path.join(env.queue, "new", "1.2.3")
open(stale, "w").close()
t.ok(pmtest.queue_add(env, "s@example.org", ["u@example.test"], b"Subject: five\n\nbody\n") == 0, "fifth queued")
t.ok(wait_for(lambda: len(maildir_files(box)) == 5 and not os.path.exists(stale), 20),
     "a notice without its message is removed")
t.ok("1.2.3" not in log(), "and not logged as a failed load")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
