#!/usr/bin/python3
# queue-run (root) sets a queue file it cannot read aside into bad/. The
# queue belongs to the user smtp-recv runs as (INSTALL section 2), who can
# make bad a symbolic link, and make such a file (a valid header over a
# garbage envelope, an old time stamp): before, root's rename(2) went
# through the link and dropped that user's file into any directory at all,
# replacing a file of the same name there. Now bad/ must be a directory of
# the queue: a link in its place is replaced by one.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("demo@example.test", "pw")
mid = pmtest.queue_unreadable(env)
t.ok(mid, "queued, then made unreadable")
elsewhere = env.path("elsewhere")
os.mkdir(elsewhere)
with open(os.path.join(elsewhere, mid), "w") as f:
    f.write("a file of root's\n")
bad = os.path.join(env.queue, "bad")
os.symlink(elsewhere, bad)

logp = env.path("qr.log")
log = pmtest.log_reader(logp)
qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: mid not in queue_files(env) or "set aside" in log(), 10), "queue-run dealt with the file", log())
got = open(os.path.join(elsewhere, mid), "rb").read()
t.ok(got == b"a file of root's\n", "nothing landed outside the queue", repr(got[:70]))
t.eq(sorted(os.listdir(elsewhere)), [mid], "nothing else there either")
t.ok(not os.path.islink(bad) and os.path.isdir(bad), "bad/ is a directory of the queue again")
t.ok(os.path.exists(os.path.join(bad, mid)), "the file set aside there", log())
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
