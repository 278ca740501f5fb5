#!/usr/bin/python3
# A damaged state file whose NEXT (when to try again) lies absurdly far in
# the future: queue-run must neither keep that message past its lifetime
# (it never tried it again, so it never expired) nor compute its poll
# timeout from it (seconds times 1000 overflowed: undefined behaviour,
# an abort under UBSan, a negative timeout -- wait forever -- without).
# No retry of queue-run's own is ever more than retrymax away, so a later
# NEXT is taken as now + retrymax. And the same when the wall clock steps
# back while queue-run runs (libfaketime, a day): the retry times it set
# before lie a day ahead; before, nothing was tried for that day.
import glob, os, signal, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
pmtest.route_nowhere(env)   # remote.test: every try fails temporarily
logp = env.path("qr.log")
log = pmtest.log_reader(logp)

mid = pmtest.queue_new(env, "sender@example.test", ["a@remote.test"], b"Subject: far\n\nbody\n")
t.ok(mid, "queued")
os.makedirs(os.path.join(env.queue, "state"), exist_ok=True)
with open(os.path.join(env.queue, "state", mid), "w") as f:
    f.write("PMS1 -\np 1 %d 1 4.4.1 - unable to connect\n" % (1 << 62))

# lifetime 2 s, retries at most 1 s apart: it must expire and bounce
qr = env.start([pmtest.bin("queue-run"), "-L", "2", "-b", "1", "-m", "1"], stderr=open(logp, "wb"))
reports = wait_for(lambda: maildir_files(snd), 20)
t.eq(len(reports), 1, "the message expired and bounced")
t.ok(reports and b"Action: failed" in open(reports[0], "rb").read(), "a failure report")
t.ok(wait_for(lambda: not queue_files(env), 10), "the queue is empty", log())
t.ok(qr.poll() is None, "queue-run still runs", log())
qr.send_signal(signal.SIGTERM)
t.eq(qr.wait(20), 0, "queue-run stops")

# the clock steps back a day under a running queue-run
lib = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1"))[:1]
if not lib or pmtest.SANITIZED:   # libfaketime before the ASan runtime can hang it (test 13)
    t.ok(True, "# skip no libfaketime (or sanitized)")
else:
    rc = env.path("faketimerc")
    with open(rc, "w") as f:
        f.write("+1d\n")
    mid = pmtest.queue_new(env, "sender@example.test", ["b@remote.test"], b"Subject: clock\n\nbody\n")
    logp = env.path("qr2.log")
    log = pmtest.log_reader(logp)
    tries = lambda: log().count("id=%s rcpt=b@remote.test channel=remote status=temp" % mid)
    qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"),
                   env={"LD_PRELOAD": lib[0], "FAKETIME_TIMESTAMP_FILE": rc, "FAKETIME_NO_CACHE": "1"})
    t.ok(wait_for(lambda: tries() >= 2, 20), "tried and retried, a day ahead", log())
    with open(rc, "w") as f:
        f.write("+0\n")   # the clock is set right
    n = tries()
    t.ok(wait_for(lambda: tries() >= n + 2, 20), "still retried every second after the step back", log())
    qr.send_signal(signal.SIGTERM)
    t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
