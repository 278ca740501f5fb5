#!/usr/bin/python3
# A report that cannot even get a process (fork fails: a process limit,
# no memory) is given up after the queue lifetime, as one queue-add will
# not take: to the postmaster, then logged and dropped. Before, it was
# tried again every retry_base seconds with no limit: the message stayed
# for as long as fork failed. Every fork of queue-run fails here (strace
# injects EAGAIN); the message's recipient has failed already (its state
# file says so), so the report is all there is to do. The report's state
# (state/ID.rep) is synced into state/ though no job completes.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files, log_event, children

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Env()
mid = pmtest.queue_new(env, "sender@example.org", ["nobody@example.test"], b"Subject: x\n\nbody\n")
t.ok(mid, "queued")
with open(os.path.join(env.queue, "state", mid), "w") as f:
    f.write("ID %s\nPMS1 -\nf 1 0 0 5.1.1 - no such user\n" % mid)
logp = env.path("qr.log")
FORKS = "clone,clone3,fork,vfork"
trace = env.path("qr.trace")
st = env.start(["strace", "-f", "-qq", "-o", trace, "-e", "trace=%s,open,openat,rename,renameat,renameat2,fsync" % FORKS,
                "-e", "inject=%s:error=EAGAIN" % FORKS,
                pmtest.bin("queue-run"), "-b", "1", "-L", "1"], stderr=open(logp, "wb"))


def log():
    return open(logp, "rb").read().decode(errors="replace")


t.ok(wait_for(lambda: not queue_files(env), 30), "the message leaves the queue", log())
ev = [d for d in log_event(log(), "report") if d.get("result") == "expired"]
t.ok(ev and ev[0].get("to") == "sender@example.org" and ev[0].get("next") == "postmaster",
     "the report to the sender given up after the lifetime: the postmaster's", log())
ev = log_event(log(), "discard")
t.ok(ev and ev[-1].get("result") == "expired" and ev[-1].get("to", "").startswith("postmaster@"),
     "then the double bounce given up after the lifetime, logged", log())
qr = children(st.pid)
for c in qr:
    os.kill(c, 15)
t.eq(st.wait(20), 0, "queue-run stops")
calls = [l.partition(" ")[2].strip() for l in open(trace).read().splitlines()]


def rep_dir_synced():
    """state/ synced (openat(statefd, ".") then fsync) after the first
    rename of state/ID.rep: its name lasts a power loss though no job, whose
    group commit syncs state/, ever completes here"""
    sfd = renamed = None
    fds = set()
    for i, c in enumerate(calls):
        m = re.match(r'openat\(AT_FDCWD, "%s", .*O_DIRECTORY.* = (\d+)$' % re.escape(os.path.join(env.queue, "state")), c)
        if m:
            sfd = m.group(1)
        if renamed is None and sfd and re.match(r'renameat2?\(\d+, "[^"]*", %s, "%s\.rep"' % (sfd, re.escape(mid)), c):
            renamed = i
        m = re.match(r'openat\(%s, "\.", .*O_DIRECTORY.* = (\d+)$' % sfd, c) if sfd else None
        if m and renamed is not None:
            fds.add(m.group(1))
        m = re.match(r"fsync\((\d+)\)", c)
        if m and m.group(1) in fds:
            return True
    return False


t.ok(rep_dir_synced(), "state/ synced after state/ID.rep is made")
t.done()
