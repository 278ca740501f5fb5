#!/usr/bin/python3
# The first writer makes the queue where it is missing (queue_init): the
# queue directory and mess/ new/ state/ tmp/ pool/ in it. Its message's
# name was synced in mess/ before the 0, but mess/'s own name in the queue
# (and the queue's in its parent) was never synced: after a power loss
# the directory, and the acknowledged message with it, could be gone.
# Each directory made is now synced in the one holding it before any
# message is written (seen with strace); a queue that is already there
# costs no extra sync.
import os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import dir_synced

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Env()
CALLS = "mkdir,mkdirat,openat,open,fsync,fdatasync,link,linkat"
n = [0]


def trace():
    n[0] += 1
    log = env.path("strace.%d" % n[0])
    r_env, w_env = os.pipe()
    os.write(w_env, b"Fs@x.test\0Tdemo@example.test\0\0")
    os.close(w_env)
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + CALLS, pmtest.bin("queue-add")],
                         stdin=subprocess.PIPE, stdout=r_env, stderr=subprocess.DEVNULL, env=env.env)
    os.close(r_env)
    p.communicate(b"Subject: first\n\nx\n", timeout=60)
    with open(log) as f:
        return p.returncode, [l.split(None, 1)[1] if l[:1].isdigit() else l for l in f.read().splitlines()]


def first(calls, pattern, after=-1):
    for i, c in enumerate(calls):
        if i > after and re.search(pattern, c):
            return i
    return None


q = env.queue
t.ok(not os.path.exists(q), "no queue yet")
code, calls = trace()
t.eq(code, 0, "queue-add made the queue and queued")
made_q = first(calls, r'^mkdir(at)?\(.*"%s", ' % re.escape(q))
made_mess = first(calls, r'^mkdir(at)?\(.*"%s/mess", ' % re.escape(q))
made_last = max([first(calls, r'^mkdir(at)?\(.*"%s/%s", ' % (re.escape(q), s)) or -1
                 for s in ("mess", "new", "state", "tmp", "pool")])
msg = first(calls, r'^openat\(\d+, "[0-9.]+", O_WRONLY\|O_CREAT')
t.ok(made_q is not None and made_mess is not None and msg is not None, "the queue, mess/ and the file made",
     "\n".join(calls))
sp = dir_synced(calls, env.dir, made_q) if made_q is not None else None
sq = dir_synced(calls, q, made_last)
t.ok(sp is not None and msg is not None and sp < msg, "the queue directory synced in its parent before the message",
     "\n".join(calls))
t.ok(sq is not None and msg is not None and sq < msg, "mess/ and the rest synced in the queue before the message",
     "\n".join(calls))

code, calls = trace()
t.eq(code, 0, "a second message queued")
t.ok(first(calls, r"^mkdir") is None or all("EEXIST" in c for c in calls if c.startswith("mkdir")),
     "nothing made this time", "\n".join(calls))
t.eq(dir_synced(calls, q, -1), None, "and the queue directory not synced again")
t.eq(dir_synced(calls, env.dir, -1), None, "nor its parent")
t.done()
