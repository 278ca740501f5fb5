#!/usr/bin/python3
# A report child that dies without a result line (killed, out of memory,
# a read error of the queue file: die_*) is tried again later, on the
# retry schedule, as when queue-add fails it. Before, the message went
# straight back to check_msg with its failed recipients and a new report
# child at once: a fork loop at full speed for as long as the cause lasted.
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("sender@example.test", "pw")
calls = env.path("calls")
fake = env.path("fake-queue-add")
with open(fake, "w") as f:
    # the report child runs queue-add: this one kills that child
    f.write("#!/bin/sh\necho x >> '%s'\nkill -KILL $PPID\nexit 0\n" % calls)
os.chmod(fake, 0o755)
t.ok(pmtest.queue_add(env, "sender@example.test", ["nobody@example.test"],
                      b"Subject: x\n\nbody\n") == 0, "queued")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "300"], env={"PIPEMAIL_QUEUEADD": fake},
               stderr=open(logp, "wb"))


def count():
    try:
        return len(open(calls).read().split())
    except OSError:
        return 0


def log():
    return open(logp, "rb").read().decode(errors="replace")


t.ok(wait_for(lambda: count() >= 1, 20), "the report child ran queue-add")
t.ok(wait_for(lambda: "queue report for" in log(), 20), "its death is logged", log())
time.sleep(1)   # room for the loop to show itself; not needed for a pass
t.eq(count(), 1, "no second report child before the retry time")
t.ok(queue_files(env), "the message stays queued")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
