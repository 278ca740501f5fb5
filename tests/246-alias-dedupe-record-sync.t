#!/usr/bin/python3
# Alias dedupe records (queue-run(8): state/ID.qmail) are synced before
# the delivery they record is reported. Two aliases of one message, a1
# and a2, both -> u: the first resolved delivers to u and records it, the
# second finds the record and makes no second copy. The record was
# written without a sync, while the first alias's result was made durable
# in state/ by queue-run: after a power loss the state could say a1 done
# and the record be gone, and a2's retry then gave u a second copy. Seen
# with strace: the record's fdatasync (and state/'s fsync, for the file
# just made) comes before the worker's report.
import os, re, signal, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
for a in ("a1", "a2"):
    env.run([pmtest.bin("mailuser"), "alias", "add", a + "@example.test", "u@example.test"])
t.eq(queue_add(env, "s@x.test", ["a1@example.test", "a2@example.test"], b"Subject: two\n\nbody\n"), 0,
     "queued to two aliases of u")
slog = env.path("strace")
qr = env.start(["strace", "-f", "-qq", "-y", "-s", "80", "-o", slog, "-e",
                "trace=write,fdatasync,fsync", pmtest.bin("queue-run")],
               stderr=open(env.path("qr.log"), "wb"), start_new_session=True)
t.ok(wait_for(lambda: not queue_files(env), 30), "delivered", open(env.path("qr.log")).read())
t.eq(subject_copies(u, b"two"), 1, "u has one copy")
for c in pmtest.children(qr.pid):   # queue-run itself: strace would detach and leave it
    os.kill(c, signal.SIGTERM)
qr.wait(15)

calls = [l.split(None, 1) for l in open(slog).read().splitlines() if l[:1].isdigit()]
QM = r"\d+<[^>]*/queue/state/[0-9.]+\.qmail>"
recs = [i for i, (pid, c) in enumerate(calls) if re.match(r'write\(%s, "@\d+\\t' % QM, c)]
t.eq(len(recs), 1, "one record written (u's copy, by the first alias)")
for w in recs:
    pid = calls[w][0]
    mine = [(i, c) for i, (p, c) in enumerate(calls) if p == pid and i > w]
    report = next((i for i, c in mine if re.match(r"write\(\d+<pipe:", c)), None)
    sync = next((i for i, c in mine if re.match(r"fdatasync\(%s\) = 0" % QM, c)), None)
    dsync = next((i for i, c in mine if re.match(r"fsync\(\d+<[^>]*/queue/state>\) = 0", c)), None)
    t.ok(report is not None and sync is not None and sync < report, "the record synced before the report",
         "\n".join(" ".join(x) for x in calls))
    t.ok(report is not None and dsync is not None and sync < dsync < report,
         "and state/, the file being new, before the report too", "\n".join(" ".join(x) for x in calls))
t.done()
