#!/usr/bin/python3
# queue-add keeps its queue file locked past the close (through a second
# descriptor) until the new/ notice is there, so a queue-run starting
# meanwhile leaves the file alone (test 187). When that second descriptor
# cannot be had (EMFILE, injected with strace), the lock ended at the
# close: a queue-run starting then delivered the message and recycled the
# file, the writer's link failed, and the client, told 4xx, sent it again
# (a duplicate). Now the writer fails (61, temporary) before it lets go of the lock,
# and the message is delivered only when the writer says 0.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import subject_copies, wait_for, queue_files

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("no usable strace")
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
log = open(env.path("queue-run.log"), "ab")
HOLD = 6 if pmtest.SANITIZED else 3   # seconds the writer's link is held

# a fresh queue (no pool file): queue-add's one fcntl is the F_DUPFD of the hold
envelope = b"Fx@example.org\0Tdemo@example.test\0\0"
r_env, w_env = os.pipe()
os.write(w_env, envelope)
os.close(w_env)
a = env.start(["strace", "-f", "-o", env.path("strace.log"), "-e", "trace=fcntl,linkat",
               "-e", "inject=fcntl:error=EMFILE:when=1",
               "-e", "inject=linkat:delay_enter=%d:when=1" % (HOLD * 1000000), pmtest.bin("queue-add")],
              stdin=subprocess.PIPE, stdout=r_env, stderr=subprocess.PIPE)
os.close(r_env)
a.stdin.write(b"Subject: held-nodup\n\nbody\n")
a.stdin.close()
# the writer is at its (held) link, or already gave up
wait_for(lambda: a.poll() is not None or any(open(os.path.join(env.queue, "mess", i), "rb").read(4) == b"PMQ1"
                                             for i in queue_files(env)), HOLD)
qr = env.start([pmtest.bin("queue-run")], stderr=log)
rc = a.wait(HOLD + 30)
err = a.stderr.read().decode(errors="replace")
with open(env.path("strace.log")) as f:
    t.ok("F_DUPFD_CLOEXEC" in f.read(), "the hold's F_DUPFD was the call that failed")
t.ok(51 <= rc <= 81, "the writer without its hold: a temporary failure (qmail-queue 51-81)", (rc, err))
time.sleep(1.5)   # queue-run's start-up scan and any delivery are done
t.eq(subject_copies(demo, b"held-nodup"), 0, "not delivered: the client was told 4xx and sends it again")
t.ok(wait_for(lambda: not queue_files(env), 10), "nothing left in mess/")

# control: the same writer with its hold ends well, and the message arrives once
qr.terminate()
qr.wait(10)
r_env, w_env = os.pipe()
os.write(w_env, envelope)
os.close(w_env)
b = env.start(["strace", "-f", "-o", "/dev/null", "-e", "inject=linkat:delay_enter=%d:when=1" % (HOLD * 1000000),
               pmtest.bin("queue-add")], stdin=subprocess.PIPE, stdout=r_env)
os.close(r_env)
b.stdin.write(b"Subject: held-hold\n\nbody\n")
b.stdin.close()
t.ok(wait_for(lambda: any(open(os.path.join(env.queue, "mess", i), "rb").read(4) == b"PMQ1"
                          for i in queue_files(env)), HOLD), "control: the held writer's header is written")
qr = env.start([pmtest.bin("queue-run")], stderr=log)
t.eq(b.wait(HOLD + 30), 0, "control: the writer ends well")
t.ok(wait_for(lambda: subject_copies(demo, b"held-hold") == 1 and not queue_files(env), 20),
     "control: delivered once, the queue drains")
qr.terminate()
qr.wait(10)
t.done()
