#!/usr/bin/python3
# queue-add: the new/ notice is the last step, after the queue file's
# close. A close can fail (NFS reports a lost write-back there, EIO):
# queue-add then exits 53 and the client sends the message again, so no
# running queue-run may have seen it in new/ meanwhile. The notice was
# linked before the close (and before the syncs, test 131).
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
ENVELOPE = b"Fs@x.test\0Tu@example.test\0\0"
new = os.path.join(env.queue, "new")
mess = os.path.join(env.queue, "mess")


def queue_add(strace_args, trace=None):
    r_env, w_env = os.pipe()
    os.write(w_env, ENVELOPE)
    os.close(w_env)
    argv = ["strace", "-f", "-o", trace or "/dev/null", *strace_args, pmtest.bin("queue-add")]
    p = env.start(argv, stdin=subprocess.PIPE, stdout=r_env, stderr=subprocess.PIPE)
    os.close(r_env)
    p.stdin.write(b"Subject: x\n\nbody\n")
    p.stdin.close()
    return p


# a first message makes the queue's directories; no queue-run runs, so
# no pool file changes the writer's path between the two runs below
t.eq(pmtest.queue_add(env, "s@x.test", ["u@example.test"], b"Subject: first\n\nx\n"), 0, "a first message")
# which close(2) is the queue file's: the fd of the first fsync, closed
trace = env.path("trace")
p = queue_add(["-e", "trace=close,fsync"], trace)
p.wait(30)
t.eq(p.returncode, 0, "a traced run queues")
fd, k, n = None, None, 0
for line in open(trace):
    call = line.split(None, 1)[1] if line[0].isdigit() else line
    if call.startswith("fsync(") and fd is None:
        fd = call[6:].split(")")[0]
    elif call.startswith("close("):
        n += 1
        if fd is not None and k is None and call[6:].split(")")[0] == fd:
            k = n
t.ok(k, "the queue file's close found (close number %s)" % k)
before_new, before_mess = set(os.listdir(new)), set(os.listdir(mess))

# that close fails with EIO after a while (HOLD): while it waits, nothing is in new/
HOLD = 6000000 if pmtest.SANITIZED else 3000000   # microseconds the close waits
p = queue_add(["-e", "trace=close", "-e", "inject=close:error=EIO:delay_enter=%d:when=%d" % (HOLD, k or 1)])
t.ok(wait_for(lambda: set(os.listdir(mess)) - before_mess, 10), "the writer's queue file is there")
seen = wait_for(lambda: set(os.listdir(new)) - before_new or p.poll() is not None, 10)
t.ok(seen is True or p.poll() is not None, "no notice in new/ while the close is pending", seen)
p.wait(30)
t.eq(p.returncode, 53, "a failed close is 53")
t.eq(set(os.listdir(new)), before_new, "no notice left in new/")
t.eq(set(os.listdir(mess)), before_mess, "no queue file left in mess/")
t.done()
