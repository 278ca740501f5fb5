#!/usr/bin/python3
# A state file that says "s" (delivered, success report still to send) for
# a recipient that never asked for one (no NOTIFY=SUCCESS, or a bounce's
# null sender: RFC 3461 sends no report then) is corrupt but parseable.
# queue-run must settle it (delivered, no report), never keep the message
# in the queue forever; a recipient that did ask still gets its report.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
pm = env.add_user("postmaster@example.test", "pw")
demo = env.add_user("demo@example.test", "pw")
demo2 = env.add_user("demo2@example.test", "pw")


def state(id, lines):
    with open(os.path.join(env.queue, "state", id), "w") as f:
        f.write("PMS1 -\n" + "".join(l + "\n" for l in lines))


def queued(sender, rcpts, dsn=None):
    before = set(queue_files(env))
    t.eq(queue_add(env, sender, rcpts, b"Subject: s state\n\nbody\n", dsn=dsn), 0, "queued for %s" % sender)
    return (set(queue_files(env)) - before).pop()


done = "s 1 0 1700000000 2.0.0 - delivered"
os.makedirs(os.path.join(env.queue, "state"), exist_ok=True)
a = queued("sender@example.test", ["demo@example.test"])                          # no DSN at all
state(a, [done])
b = queued("sender@example.test", ["demo@example.test", "demo2@example.test"],
           dsn="\nNOTIFY=FAILURE\nNOTIFY=NEVER\n")                                 # asked for no success report
state(b, [done, done])
c = queued("", ["demo@example.test"], dsn="\nNOTIFY=SUCCESS\n")                   # a bounce: never reported on
state(c, [done])
d = queued("#@[]", ["demo@example.test"])                                         # a double bounce
state(d, [done])
e = queued("sender@example.test", ["demo@example.test"], dsn="\nNOTIFY=SUCCESS\n")  # asked: the report goes
state(e, [done])

qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "2"], stderr=open(env.path("queue-run.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env), 15), "every message finished", queue_files(env))
t.eq(maildir_files(demo) + maildir_files(demo2), [], "nothing delivered again")
reports = wait_for(lambda: maildir_files(snd), 10)
t.eq(len(reports), 1, "one report to the sender: the one asked for")
t.ok(reports and b"Action: delivered" in open(reports[0], "rb").read(), "a success report")
t.eq(maildir_files(pm), [], "nothing to the postmaster")
qr.terminate()
qr.wait(10)
t.done()
