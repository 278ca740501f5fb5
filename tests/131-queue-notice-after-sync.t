#!/usr/bin/python3
# queue-add and smtp-recv's in-process writer: the new/ notice that makes a
# running queue-run take a message comes only after the file and mess/ are
# synced. A sync that fails (EIO) answers 53 / 452 and the client sends the
# message again later: had queue-run already seen the notice, another
# writer's wakeup would have it delivered as well, and the message would
# arrive twice (it did: the link came before the fsyncs).
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, subject_copies, wait_for, smtp_codes

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
qlog = open(env.path("queue-run.log"), "wb")
env.start([pmtest.bin("queue-run")], stderr=qlog)
t.eq(queue_add(env, "s@x.test", ["demo@example.test"], b"Subject: first\n\nx\n"), 0, "a message queued")
t.ok(wait_for(lambda: subject_copies(demo, b"first") == 1), "and delivered: queue-run is running")

# the first fsync waits (HOLD), then fails; it is the file's own fsync, after
# the header is written (the file is whole): wait for the header, then
# wake queue-run with another message while the writer is in that fsync
HOLD = 6000000 if pmtest.SANITIZED else 3000000   # microseconds the fsync waits
INJECT = "inject=fsync:error=EIO:delay_enter=%d:when=1" % HOLD


def header_written():
    d = os.path.join(env.queue, "mess")
    for n in os.listdir(d):
        try:
            with open(os.path.join(d, n), "rb") as f:
                if f.read(4) == b"PMQ1" and n not in done:
                    return n
        except OSError:
            pass
    return None


def traced(argv, stdin, stdout, e=None):
    return env.start(["strace", "-f", "-o", "/dev/null", "-e", "trace=fsync", "-e", INJECT, *argv], env=e,
                     stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)


done = set(os.listdir(os.path.join(env.queue, "mess")))

# 1. queue-add
envelope = b"Fs@x.test\0Tdemo@example.test\0\0"
r_env, w_env = os.pipe()
os.write(w_env, envelope)
os.close(w_env)
p = traced([pmtest.bin("queue-add")], subprocess.PIPE, r_env)
os.close(r_env)
p.stdin.write(b"Subject: eio-add\n\nx\n")
p.stdin.close()
got = wait_for(header_written, 10)
t.ok(got, "queue-add wrote its file and is in its fsync")
t.eq(queue_add(env, "s@x.test", ["demo@example.test"], b"Subject: wake1\n\nx\n"), 0, "another message queued meanwhile")
t.ok(wait_for(lambda: subject_copies(demo, b"wake1") == 1), "that one delivered")
p.wait(30)
t.eq(p.returncode, 53, "queue-add: the failed fsync is 53")
t.eq(queue_add(env, "s@x.test", ["demo@example.test"], b"Subject: after1\n\nx\n"), 0, "a last message queued")
t.ok(wait_for(lambda: subject_copies(demo, b"after1") == 1), "and delivered")
t.eq(subject_copies(demo, b"eio-add"), 0, "the message queue-add failed on was not delivered")
done |= set(os.listdir(os.path.join(env.queue, "mess")))

# 2. smtp-recv writing in its own process (no QMAILQUEUE)
p = traced([pmtest.bin("smtp-recv")], subprocess.PIPE, subprocess.PIPE, {"QMAILQUEUE": "", "TCPREMOTEIP": "192.0.2.7"})
p.stdin.write(b"EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
              b"Subject: eio-recv\r\n\r\nx\r\n.\r\nQUIT\r\n")
p.stdin.close()
got = wait_for(header_written, 10)
t.ok(got, "smtp-recv wrote the file and is in its fsync")
t.eq(queue_add(env, "s@x.test", ["demo@example.test"], b"Subject: wake2\n\nx\n"), 0, "another message queued meanwhile")
t.ok(wait_for(lambda: subject_copies(demo, b"wake2") == 1), "that one delivered")
out = p.stdout.read()
p.wait(30)
t.eq(smtp_codes(out)[-2:], [452, 221], "smtp-recv: the failed fsync is 452")
t.eq(queue_add(env, "s@x.test", ["demo@example.test"], b"Subject: after2\n\nx\n"), 0, "a last message queued")
t.ok(wait_for(lambda: subject_copies(demo, b"after2") == 1), "and delivered")
t.eq(subject_copies(demo, b"eio-recv"), 0, "the message smtp-recv answered 452 was not delivered")
t.done()
