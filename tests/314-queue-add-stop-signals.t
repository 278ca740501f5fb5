#!/usr/bin/python3
# queue-add and the signals that stop a job (SIGTERM from a caller's
# timeout, SIGINT/SIGHUP/SIGQUIT to a process group): while the message
# is read, the unfinished queue file is removed and the signal still ends
# queue-add (before, the file stayed in mess/ until queue-run's next
# start). Once the envelope is whole they are held off: the file is mail
# from its header's write on and queued from its notice on, so a signal
# then made queue-add's exit a failure the caller retries while the
# message was (or became, at queue-run's next start) queued: sent twice.
# Now queue-add finishes and its status is the answer.
import os, signal, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import bin, children, queue_files, wait_for

t = pmtest.TAP()
env = pmtest.Env()
ENVELOPE = b"Fs@x.test\0Tr@remote.test\0\0"


def new_files():
    d = os.path.join(env.queue, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


pmtest.queue_add(env, "s@x.test", ["r@remote.test"], b"Subject: first\n\nx\n")
os.unlink(os.path.join(env.queue, "new", new_files()[0]))   # makes the queue; this one stays in mess/
before = queue_files(env)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
    r_env, w_env = os.pipe()
    p = env.start([bin("queue-add")], stdin=subprocess.PIPE, stdout=r_env, preexec_fn=pmtest.default_signals)
    os.close(r_env)
    p.stdin.write(b"Subject: cut\n\npart of it\n")
    p.stdin.flush()
    t.ok(wait_for(lambda: len(queue_files(env)) > len(before), 10), "%s: queue file made" % sig.name)
    p.send_signal(sig)
    rc = p.wait(20)
    p.stdin.close()
    os.close(w_env)
    t.eq(rc, -sig, "%s ends queue-add while it reads" % sig.name)
    t.eq(queue_files(env), before, "%s: the unfinished file is gone" % sig.name)

if not pmtest.strace_usable():
    t.diag("strace cannot trace here: the commit's part not run")
else:
    # SIGTERM while the fsync of a whole file is held back (strace)
    r_env, w_env = os.pipe()
    os.write(w_env, ENVELOPE)
    os.close(w_env)
    p = env.start(["strace", "-o", "/dev/null", "-e", "inject=fsync:delay_enter=3000000:when=1",
                   bin("queue-add")], stdin=subprocess.PIPE, stdout=r_env, stderr=subprocess.PIPE)
    os.close(r_env)
    p.stdin.write(b"Subject: whole\n\nbody\n")
    p.stdin.close()

    def header_written():
        for f in queue_files(env):
            if f not in before:
                with open(os.path.join(env.queue, "mess", f), "rb") as fh:
                    if fh.read(4) == b"PMQ1":
                        return f
        return None
    mid = wait_for(header_written, 10)
    t.ok(mid, "the header is written (queue-add is in its fsync)")
    kids = wait_for(lambda: children(p.pid), 5)
    for k in kids:
        os.kill(k, signal.SIGTERM)
    rc = p.wait(30)
    t.ok(rc == 0, "queue-add finishes: exit 0", (rc, p.stderr.read()))
    t.ok(mid in new_files(), "and the message is queued (its notice is there)")
    t.eq(sorted(set(queue_files(env)) - set(before)), [mid] if mid else [], "one file, that message")
t.done()
