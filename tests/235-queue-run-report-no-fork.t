#!/usr/bin/python3
# A report that cannot even get a process (fork fails: a process limit,
# no memory) is given up after the queue lifetime, as one queue-add will
# not take: to the postmaster, then logged and dropped. Before, it was
# tried again every retry_base seconds with no limit: the message stayed
# for as long as fork failed. Every fork of queue-run fails here (strace
# injects EAGAIN); the message's recipient has failed already (its state
# file says so), so the report is all there is to do.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files, log_event, children

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Env()
mid = pmtest.queue_new(env, "sender@example.org", ["nobody@example.test"], b"Subject: x\n\nbody\n")
t.ok(mid, "queued")
with open(os.path.join(env.queue, "state", mid), "w") as f:
    f.write("ID %s\nPMS1 -\nf 1 0 0 5.1.1 - no such user\n" % mid)
logp = env.path("qr.log")
FORKS = "clone,clone3,fork,vfork"
st = env.start(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + FORKS, "-e", "inject=%s:error=EAGAIN" % FORKS,
                pmtest.bin("queue-run"), "-b", "1", "-L", "1"], stderr=open(logp, "wb"))


def log():
    return open(logp, "rb").read().decode(errors="replace")


t.ok(wait_for(lambda: not queue_files(env), 30), "the message leaves the queue", log())
ev = [d for d in log_event(log(), "report") if d.get("result") == "expired"]
t.ok(ev and ev[0].get("to") == "sender@example.org" and ev[0].get("next") == "postmaster",
     "the report to the sender given up after the lifetime: the postmaster's", log())
ev = log_event(log(), "discard")
t.ok(ev and ev[-1].get("result") == "expired" and ev[-1].get("to", "").startswith("postmaster@"),
     "then the double bounce given up after the lifetime, logged", log())
qr = children(st.pid)
for c in qr:
    os.kill(c, 15)
t.eq(st.wait(20), 0, "queue-run stops")
t.done()
