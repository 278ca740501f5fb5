#!/usr/bin/python3
# queue-list's requests to a running queue-run go through the trigger FIFO,
# one "A ID\n" line per message, and queue-list says 0: every one of them
# must be carried out, however they arrive. queue-run reads the FIFO only
# between its rounds (here: while it is stopped, as it is while busy with
# a big queue), so lines pile up there beside queue-add's wakeup bytes.
# Before: a wakeup byte (NUL) that came between two lines was glued to the
# start of the next line, which was then dropped as garbage; and whatever
# piled up past 4096 bytes was dropped, with every line after it.
import os, signal, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
pmtest.route_nowhere(env)   # remote.test: every try fails temporarily
logp = env.path("qr.log")


def ql(*args):
    return env.run(["queue-list"] + list(args), check=False)


def add(n, tag):
    before = set(queue_files(env))
    for i in range(n):
        queue_add(env, "s@example.test", ["r%d@remote.test" % i], b"Subject: " + tag + b"\n\nbody\n")
    return sorted(set(queue_files(env)) - before)


log = pmtest.log_reader(logp)


def tried(ids):
    # every message's first attempt recorded (they are then deferred an hour)
    return all(os.path.exists(os.path.join(env.queue, "state", i)) for i in ids)


a, b = add(2, b"two")
qr = env.start([pmtest.bin("queue-run"), "-b", "3600"], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: tried([a, b]), 20), "both tried once and deferred")

# 1. a wakeup byte between two request lines
os.kill(qr.pid, signal.SIGSTOP)
try:
    r1 = ql("delete", a)
    c = add(1, b"wakeup")[0]   # queue-add writes its wakeup byte to the FIFO
    r2 = ql("delete", b)
finally:
    os.kill(qr.pid, signal.SIGCONT)
t.eq((r1.returncode, r2.returncode), (0, 0), "queue-list took both requests")
t.ok(wait_for(lambda: a not in queue_files(env) and b not in queue_files(env), 10),
     "both deleted, the one after the wakeup byte too", log())
t.ok(c in queue_files(env) or "id=%s" % c in log(), "the new message is still there")

# 2. more requests than 4096 bytes of lines
many = add(180, b"many")
t.ok(wait_for(lambda: tried(many), 60), "all tried once and deferred")
os.kill(qr.pid, signal.SIGSTOP)
try:
    r = ql("delete", *many)
finally:
    os.kill(qr.pid, signal.SIGCONT)
t.eq(r.returncode, 0, "queue-list took %d requests (%d bytes)" % (len(many), sum(len(i) + 3 for i in many)))
t.ok(wait_for(lambda: not set(many) & set(queue_files(env)), 20), "every one of them deleted",
     "left: %d" % len(set(many) & set(queue_files(env))))
t.eq(log().count("event=admin"), 2 + len(many), "one admin event per request")

# 3. a line too long to be a request does not block the ones after it
os.kill(qr.pid, signal.SIGSTOP)
try:
    fd = os.open(os.path.join(env.queue, "trigger"), os.O_WRONLY | os.O_NONBLOCK)
    os.write(fd, b"R " + b"1" * 5000 + b"\n")   # too long to be a request
    os.close(fd)
    r = ql("delete", c)
finally:
    os.kill(qr.pid, signal.SIGCONT)
t.eq(r.returncode, 0, "queue-list took the request")
t.ok(wait_for(lambda: c not in queue_files(env), 10), "deleted after the garbage", log())

qr.send_signal(signal.SIGTERM)
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
