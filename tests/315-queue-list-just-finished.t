#!/usr/bin/python3
# queue-list lists a message queue-run finishes meanwhile: it opened
# mess/ID, then queue-run removed it (into pool/), then its state; the
# state queue-list read next is the last one saved (or none: every
# recipient pending), and the message was listed, and counted, as
# pending though it was gone. Now a message no longer in mess/ after its
# state was read is left out. strace holds queue-list back once it has
# mess/ID open, while the test removes it as queue-run's recycle does.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import bin, children, queue_new, wait_for

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
mid = queue_new(env, "s@x.test", ["r@remote.test"], b"Subject: x\n\nbody\n")
t.ok(mid, "queued")
mid = mid or "0.0.0"
t.eq(env.run(["queue-list", "retry", mid], check=False).returncode, 0, "retried offline: it has a state file")
t.ok(os.path.exists(os.path.join(env.queue, "state", mid)), "state/ID there")
mess = os.path.join(env.queue, "mess", mid)

# which openat is the one of mess/ID (a dry run; the same calls each run)
tr = env.path("dry.trace")
r = subprocess.run(["strace", "-o", tr, "-e", "trace=openat", bin("queue-list")], env=env.env,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
t.ok(("pending <r@remote.test>" in r.stdout.decode()), "listed as pending", r.stdout)
calls = [l for l in open(tr) if l.startswith("openat(")]
nth = next((i + 1 for i, l in enumerate(calls) if '"%s"' % mid in l or '"%s"' % mess in l), None)
t.ok(nth, "mess/ID's open found", calls)

p = env.start(["strace", "-o", "/dev/null", "-e", "trace=openat",
               "-e", "inject=openat:delay_exit=3000000:when=%d" % (nth or 1), bin("queue-list")],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def holds_mess():
    for k in children(p.pid):
        try:
            for fd in os.listdir("/proc/%d/fd" % k):
                if os.readlink("/proc/%d/fd/%s" % (k, fd)) == mess:
                    return True
        except OSError:
            pass
    return False


t.ok(wait_for(holds_mess, 10), "queue-list has mess/ID open")
os.rename(mess, os.path.join(env.queue, "pool", mid))   # as queue-run's recycle; the state goes after
out, err = p.communicate(timeout=30)
t.eq(p.returncode, 0, "queue-list exits 0")
t.eq(out, b"0 messages, 0 pending recipients\n", "the finished message is not listed as pending")
t.done()
