#!/usr/bin/python3
# Results a delivery child leaves in state/ID.done (queue-run was gone)
# start on a line of their own. Another child's append cut short (a full
# disk mid-write, a kill) can leave a line without its newline; the next
# append continued it, and "1" + "0 ok ..." read as "10 ok": recipient 10
# taken as delivered (lost, never tried) and recipient 0 delivered again.
# Here queue-run is killed while recipient 0's delivery runs, such a
# fragment is put in .done, then the delivery ends and its worker appends.
import os, signal, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
N = 11
rcpts = ["u%d@example.test" % i for i in range(N)]
for r in rcpts:
    env.add_user(r, "pw")
work = env.path("work")
os.mkdir(work)
os.chmod(work, 0o777)
flag = os.path.join(work, "go")
log = os.path.join(work, "delivered")
agent = env.path("agent")
with open(agent, "w") as f:
    # u0's first delivery waits (bounded) for the go-ahead
    f.write("#!/bin/sh\ncat >/dev/null\n"
            "if [ \"$RECIPIENT\" = u0@example.test ]; then touch '%s/started'; i=0\n"
            "  while [ ! -e '%s' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; fi\n"
            "echo \"$RECIPIENT\" >> '%s'\nexit 0\n" % (work, flag, log))
os.chmod(agent, 0o755)
qenv = {"PIPEMAIL_DELIVER": agent}
t.ok(pmtest.queue_add(env, "sender@example.org", rcpts, b"Subject: x\n\nbody\n") == 0, "queued")
ids = queue_files(env)
t.eq(len(ids), 1, "one queue file")
qr = env.start([pmtest.bin("queue-run"), "-l", "1"], env=qenv, stderr=open(env.path("qr1.log"), "wb"))
t.ok(wait_for(lambda: os.path.exists(os.path.join(work, "started")), 20), "u0's delivery runs")
os.kill(qr.pid, signal.SIGKILL)
qr.wait()
with open(os.path.join(env.queue, "state", ids[0] + ".done"), "ab") as f:
    f.write(b"1")   # what an append cut short leaves
open(flag, "w").close()
logp = env.path("qr2.log")
qr = env.start([pmtest.bin("queue-run"), "-l", "1"], env=qenv, stderr=open(logp, "wb"))
t.ok(wait_for(lambda: not queue_files(env), 30), "the message is done")
got = open(log).read().split() if os.path.exists(log) else []
for r in rcpts:
    t.eq(got.count(r), 1, "%s delivered once" % r)
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
