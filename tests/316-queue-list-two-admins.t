#!/usr/bin/python3
# Two admins at once, queue-run not running. "queue-list retry ID" goes
# on beside whoever holds the message's lock (a delivery of a killed
# queue-run, another admin's bounce): it reads state/ID, changes it and
# writes it back. A "queue-list bounce ID" that ran between that read
# and that write said 0, and the retry's write then undid the bounce:
# the message stayed pending and no one was told. Now queue-list's
# changes to the files are one at a time. Here the lock is the test's
# (as a delivery's), and strace holds the retry back between its read
# and its write while the lock is let go and the bounce runs.
import fcntl, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
rcpt = "r@remote.test"
mid = pmtest.queue_new(env, "admin@x.test", [rcpt], b"Subject: two admins\n\nbody\n") or "0.0.0"
t.ok(os.path.exists(os.path.join(env.queue, "mess", mid)), "queued")
held = os.open(os.path.join(env.queue, "mess", mid), os.O_RDONLY)
fcntl.flock(held, fcntl.LOCK_EX)

# strace's lines on the retry's stderr (unbuffered there, unlike a file)
retry = env.start(["strace", "-e", "trace=openat,unlinkat", "-e", "inject=unlinkat:delay_enter=3000000:when=1",
                   pmtest.bin("queue-list"), "retry", mid], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def state_read():
    # mess/ID's open, then state/ID's (both name the id); False at the end
    n = 0
    for l in retry.stderr:
        n += mid.encode() + b'"' in l
        if n >= 2:
            return True
    return False


t.ok(state_read(), "the retry has read the state (and waits to write it)")
os.close(held)   # the delivery ends
bounce = env.run(["queue-list", "bounce", mid], check=False)
t.eq(bounce.returncode, 0, "the bounce says done")
rout, rerr = retry.communicate(timeout=30)
t.eq(retry.returncode, 0, "the retry says done")
listing = env.run(["queue-list"], check=False).stdout.decode()
t.ok("failed <%s>" % rcpt in listing and "bounced by the administrator" in listing,
     "the bounce holds", listing)
t.done()
