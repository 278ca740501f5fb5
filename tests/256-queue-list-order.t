#!/usr/bin/python3
# queue-list lists messages oldest first. Queue ids are SECONDS.USEC.PID
# with USEC not zero padded, so byte order is not arrival order within a
# second (".103000" sorts before ".95000"): the fields are compared as
# numbers. Two queued messages are renamed to such ids (mess/ and new/
# alike, as queue-add links them), queue-run not running.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_new

t = pmtest.TAP()
env = pmtest.Env()
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())
want = ["1900000000.95000.7", "1900000000.103000.8", "1900000001.5.6", "1900000001.5.6.1"]
made = []
for i, new_id in enumerate(["1900000001.5.6.1", "1900000000.103000.8", "1900000001.5.6", "1900000000.95000.7"]):
    qid = queue_new(env, "s@example.test", ["r%d@remote.test" % i], b"Subject: %d\n\nbody\n" % i)
    for sub in ("mess", "new"):
        old = os.path.join(env.queue, sub, qid)
        if os.path.exists(old):
            os.rename(old, os.path.join(env.queue, sub, new_id))
    made.append(new_id)
r = env.run(["queue-list"], check=False)
t.ok(r.returncode == 0, "queue-list lists", r.stderr)
got = [line.split()[0].decode() for line in r.stdout.splitlines() if line[:1].isdigit() and b"." in line.split()[0]]
t.eq(got, want, "oldest first: microseconds and pids compared as numbers")
t.done()
