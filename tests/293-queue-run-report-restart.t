#!/usr/bin/python3
# What becomes of a report that could not be queued outlives a restart
# of queue-run (state/ID.rep). Before, it lived in memory only: after a
# restart a bounce the sender's address had refused went to the sender
# again, not to the postmaster, and the queue lifetime of a report that
# failed began anew, so a report never queued was tried for ever by a
# queue-run restarted more often than its lifetime.
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files, maildir_files

t = pmtest.TAP()


def fake_queue_add(env, name, codes):
    """a queue-add that exits codes[sender] for those senders (b"" the
    bounce's, b"#@[]" the double bounce's), writing each sender to a
    file of calls, and hands the rest to the real one"""
    calls, fake = env.path(name + ".calls"), env.path(name)
    with open(fake, "w") as f:
        f.write(pmtest.queueadd_stub("""s = envl.split(b"\\0")[0][1:]
with open(%r, "a") as c:
    c.write(s.decode() + "\\n")
if s in %r:
    sys.exit(%r[s])
""" % (calls, codes, codes)))
    os.chmod(fake, 0o755)
    return fake, calls


def lines(p):
    return open(p).read().splitlines() if os.path.exists(p) else []


def run(env, name, codes, opts, until):
    """queue-run with that queue-add until until(the senders it saw, its
    log), then stopped; those senders"""
    fake, calls = fake_queue_add(env, name, codes)
    logp = env.path(name + ".log")
    qr = env.start([pmtest.bin("queue-run")] + opts, env={"PIPEMAIL_QUEUEADD": fake}, stderr=open(logp, "wb"))
    t.ok(wait_for(lambda: until(lines(calls), open(logp, "rb").read()), 30), name + ": the reports were tried",
         lines(calls))
    qr.terminate()
    t.eq(qr.wait(20), 0, name + ": queue-run stops")
    return lines(calls)


def setup():
    env = pmtest.Env()
    pm = env.add_user("pm@example.test", "pw")
    with open(os.path.join(env.conf, "doublebounceto"), "w") as f:
        f.write("pm@example.test\n")
    t.ok(pmtest.queue_add(env, "sender@example.org", ["nobody@example.test"], b"Subject: x\n\nbody\n") == 0,
         "queued")
    return env, pm


def state(env):
    return sorted(os.listdir(os.path.join(env.queue, "state")))


# the sender's address refused the bounce for good (31, a permanent
# queue-add code; 100 is not one in qmail-queue's protocol); the double bounce
# failed for now; after a restart the report is the postmaster's
env, pm = setup()
seen = run(env, "first", {b"": 31, b"#@[]": 71}, ["-b", "300"],
           lambda c, log: log.count(b"queue report for") >= 2)
t.eq(seen, ["", "#@[]"], "first run: refused by the sender's address, then the postmaster's failed")
t.ok([f for f in state(env) if f.endswith(".rep")], "the report's state is on disk", state(env))
seen = run(env, "second", {b"": 31}, ["-b", "300"], lambda c, log: c and not queue_files(env))
t.eq(seen, ["#@[]"], "after the restart the report goes to the postmaster, not to the sender again")
t.eq(len(maildir_files(pm)), 1, "the postmaster has it")
t.eq(state(env), [], "nothing is left in state/")

# a report failing for now: its lifetime goes on across a restart
env, pm = setup()
seen = run(env, "before", {b"": 71}, ["-b", "300", "-L", "2"], lambda c, log: log.count(b"queue report for") >= 1)
t.eq(seen, [""], "first run: the bounce failed once")
time.sleep(2.5)   # the lifetime passes while no queue-run runs
seen = run(env, "after", {b"": 71}, ["-b", "1", "-L", "2"], lambda c, log: not queue_files(env))
t.eq(seen, ["", "#@[]"], "after the restart its one failure ends its lifetime: the postmaster's at once")
t.eq(len(maildir_files(pm)), 1, "the postmaster has it")
t.done()
