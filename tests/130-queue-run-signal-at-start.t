#!/usr/bin/python3
# A SIGHUP or SIGALRM (s6-svc -h / -a) that reaches queue-run while it is
# still starting, before its handlers are in place, must not kill it (both
# signals' default action): strace holds queue-run in the system call just
# before the handlers are set, the signals arrive then, and queue-run must
# go on to deliver the queue.
import os, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("no usable strace")
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
t.eq(queue_add(env, "a@b.test", ["u@example.test"], b"Subject: early signal\n\nbody\n"), 0, "queued")
HOLD = 3
QR = pmtest.bin("queue-run")
qr = env.start(["strace", "-o", "/dev/null", "-e", "trace=pipe2",
                "-e", "inject=pipe2:delay_enter=%d:when=1" % (HOLD * 1000000), QR],
               stdout=subprocess.DEVNULL, stderr=open(env.path("qr.log"), "wb"))


def queue_run_pid():
    """strace's child once it is queue-run (after the exec)"""
    for k in pmtest.children(qr.pid):
        try:
            if os.readlink("/proc/%d/exe" % k) == os.path.realpath(QR):
                return k
        except OSError:
            pass
    return None


pid = wait_for(queue_run_pid, 10, 0.01)
t.ok(pid, "queue-run started under strace")
# its start up to the held pipe2 takes milliseconds; the signals come well
# inside the hold, before the handlers are set
time.sleep(HOLD / 4.0)
if pid:
    os.kill(pid, signal.SIGHUP)
    os.kill(pid, signal.SIGALRM)
t.ok(wait_for(lambda: len(maildir_files(u)) == 1 and not queue_files(env), 20), "still delivered the queue",
     open(env.path("qr.log")).read())
t.eq(qr.poll(), None, "queue-run still running")
if pid and qr.poll() is None:
    os.kill(pid, signal.SIGTERM)
t.eq(qr.wait(15), 0, "stopped by SIGTERM, exit 0")
try:
    os.kill(pid or 0, signal.SIGKILL) if pid else None   # never left behind, whatever happened
except OSError:
    pass
t.done()
