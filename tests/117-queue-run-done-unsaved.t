#!/usr/bin/python3
# Results a killed run's delivery child left in state/ID.done are applied
# at the next start, saved into state/ID, and only then may the .done
# file go. Here that save fails (strace: the disk is full at the
# state file's rename) and queue-run is then killed: before, the .done
# file was removed all the same, so the result was nowhere on disk, and
# the next queue-run delivered the message to that recipient a second
# time. Now the .done file stays until a save succeeds.
import os, signal, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
user = env.add_user("user@example.test", "pw")
pmtest.route_nowhere(env)   # remote.test: every try fails temporarily
logp = env.path("qr.log")
log = pmtest.log_reader(logp)

mid = pmtest.queue_new(env, "s@example.test", ["user@example.test", "a@remote.test"], b"Subject: once\n\nbody\n")
t.ok(mid, "queued")
state = os.path.join(env.queue, "state", mid)
os.makedirs(os.path.dirname(state), exist_ok=True)
# both pending; the remote one not due for an hour, so nothing else is saved
with open(state, "w") as f:
    f.write("PMS1 -\np 0 0 0 - - \np 1 %d %d 4.4.1 - unable to connect\n" % (time.time() + 3600, time.time()))
with open(state + ".done", "w") as f:
    f.write("0 ok 2.0.0 - delivered by the killed run's child\n")

qr = env.start(["strace", "-o", env.path("trace"), "-e", "trace=rename,renameat,renameat2",
                "-e", "inject=rename,renameat,renameat2:error=ENOSPC:when=1",
                pmtest.bin("queue-run"), "-b", "3600"], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: "id=%s rcpt=user@example.test channel=recovered status=ok" % mid in log(), 20),
     "the left result is applied", log())
t.ok(wait_for(lambda: "ENOSPC" in open(env.path("trace")).read(), 10), "its save failed (disk full)")
kids = pmtest.children(qr.pid)   # queue-run, under strace
t.eq(len(kids), 1, "queue-run found")
for k in kids:
    os.kill(k, signal.SIGKILL)
qr.wait(20)

logp2 = env.path("qr2.log")
qr2 = env.start([pmtest.bin("queue-run"), "-b", "3600"], stderr=open(logp2, "wb"))
log2 = pmtest.log_reader(logp2)
t.ok(wait_for(lambda: "id=%s rcpt=user@example.test channel=" % mid in log2(), 20), "it settles the recipient", log2())
t.ok("id=%s rcpt=user@example.test channel=recovered status=ok" % mid in log2(), "from the result left", log2())
t.eq(len(maildir_files(user)), 0, "the recipient the child delivered to gets no second copy")
t.ok(mid in queue_files(env), "the message waits for its remote recipient")
qr2.terminate()
t.eq(qr2.wait(20), 0, "queue-run stops")
t.done()
