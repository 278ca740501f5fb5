#!/usr/bin/python3
# queue-list bounce finds no queue-run listening and changes the state
# file itself, under the queue file's lock; queue-run starts meanwhile
# and reads the message before that lock is taken (strace holds
# queue-list back just before its flock). queue-run then acts on what it
# read and never sees the change: before, the bounce was lost while
# queue-list said 0 (the message waited for its next retry, an hour).
# Now queue-list, holding the lock, looks again: a queue-run that listens
# by then gets the request through the FIFO.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
pmtest.route_nowhere(env)   # remote.test: every try fails temporarily
logp = env.path("qr.log")
log = pmtest.log_reader(logp)

mid = pmtest.queue_new(env, "sender@example.test", ["a@remote.test"], b"Subject: bounce me\n\nbody\n")
t.ok(mid, "queued")
trace = env.path("ql.trace")
ql = env.start(["strace", "-f", "-o", trace, "-e", "trace=openat,flock", "-e", "inject=flock:delay_enter=3000000",
                pmtest.bin("queue-list"), "bounce", mid], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
t.ok(wait_for(lambda: os.path.exists(trace) and "/trigger" in open(trace).read(), 10),
     "queue-list found no queue-run listening")
qr = env.start([pmtest.bin("queue-run"), "-b", "3600"], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: "id=%s rcpt=a@remote.test channel=remote status=temp" % mid in log(), 10),
     "queue-run read the message and tried it", log())
out, err = ql.communicate(timeout=30)
t.eq(ql.returncode, 0, "queue-list says done")
reports = wait_for(lambda: maildir_files(snd), 15)
t.eq(len(reports), 1, "the sender got the bounce")
t.ok(reports and b"bounced by the administrator" in open(reports[0], "rb").read(), "the administrator's bounce")
t.ok(wait_for(lambda: not queue_files(env), 10), "the message left the queue")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
