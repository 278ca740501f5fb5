#!/usr/bin/python3
# SIGKILL queue-run at random moments during a few-hundred-message run,
# restart it each time: every message delivered, none lost, and (its
# local workers live on and leave their results) none delivered twice.
# Then the same with SIGTERM through s6 (s6-svc -d / -u) in the middle of
# a run.
import os, random, re, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
N = 150 if pmtest.SANITIZED else 600
rnd = random.Random(4242)


def subjects():
    seen = {}
    for f in maildir_files(demo):
        with open(f, "rb") as fh:
            m = re.search(rb"^Subject: n(\d+)$", fh.read(4096), re.M)
        if m:
            seen[int(m.group(1))] = seen.get(int(m.group(1)), 0) + 1
    return seen


def queue_batch(first, n):
    for i in range(first, first + n):
        rc = queue_add(env, "x@example.org", ["demo@example.test"],
                       b"Subject: n%d\n\nbody %d\n" % (i, i))
        if rc != 0:
            return False
    return True


def start():
    return env.start([pmtest.bin("queue-run"), "-l", "8"], stderr=log)


log = open(env.path("queue-run.log"), "ab")
t.ok(queue_batch(0, N), "%d messages queued" % N)
kills = 0
end = time.monotonic() + 25
qr = start()
while time.monotonic() < end and queue_files(env):
    # the first kill comes early, so there is always one mid-run
    time.sleep(rnd.uniform(0.005, 0.05))   # many kills: each is a chance to hit a hand-over
    if kills and not queue_files(env):
        break
    qr.kill()
    qr.wait()
    kills += 1
    qr = start()
t.ok(wait_for(lambda: not queue_files(env), 60), "queue drained after %d kills" % kills)
got = subjects()
t.eq(sorted(got), list(range(N)), "every message delivered, none lost")
dups = sum(v - 1 for v in got.values())
# every job out of queue-run's hands holds its queue file's lock, and a
# killed run's workers leave their results for the next: none repeated
t.eq(dups, 0, "no duplicates after %d kills of queue-run alone" % kills)
t.ok(kills >= 1, "queue-run was killed at least once")
# a message's state file goes just after its queue file: on a loaded
# machine that can be a moment after mess/ is empty
sdir = os.path.join(env.queue, "state")
wait_for(lambda: not os.listdir(sdir), 10)
left = [f for f in os.listdir(sdir)]
t.eq(left, [], "no state left behind")
qr.terminate()
qr.wait(10)

# s6: down in the middle of a run, then up
if not shutil.which("s6-supervise"):
    t.diag("s6 not installed: skipping the s6 part")
    t.done()
for f in maildir_files(demo):
    os.unlink(f)
svc = env.path("svc")
os.mkdir(svc)
with open(os.path.join(svc, "run"), "w") as f:
    f.write("#!/bin/sh\nexec 2>>%s\nexec %s -l 4 -t 30\n" % (env.path("queue-run.log"), pmtest.bin("queue-run")))
os.chmod(os.path.join(svc, "run"), 0o755)
with open(os.path.join(svc, "down"), "w"):
    pass
sup = env.start(["s6-supervise", svc], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: os.path.exists(os.path.join(svc, "supervise", "control")), 5)
t.ok(queue_batch(1000, N // 2), "%d more queued" % (N // 2))
subprocess.run(["s6-svc", "-u", svc], check=True)
wait_for(lambda: len(maildir_files(demo)) >= N // 8, 20, 0.01)
subprocess.run(["s6-svc", "-wD", "-d", svc], check=True, timeout=60)
mid = len(maildir_files(demo))
t.ok(0 < mid, "stopped in the middle of the run (%d of %d delivered)" % (mid, N // 2))
subprocess.run(["s6-svc", "-u", svc], check=True)
t.ok(wait_for(lambda: not queue_files(env), 60), "queue drained after s6-svc -u")
got = subjects()
t.eq(sorted(got), list(range(1000, 1000 + N // 2)), "every message delivered once more up")
t.eq(sum(v - 1 for v in got.values()), 0, "no duplicates after a clean stop")
subprocess.run(["s6-svc", "-wD", "-d", svc], timeout=60)
subprocess.run(["s6-svc", "-x", svc])
sup.wait(10)
t.done()
