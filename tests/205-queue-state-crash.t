#!/usr/bin/python3
# queue-run's state files (lib/queue.c queue_state_save: written, closed
# and renamed over state/ID without an fsync of their own; state/ synced
# once per batch) under a power loss. A state file is only a record of
# what was done, so a crash may lose it, or leave it empty or old, and the
# worst that may follow is a recipient delivered again: never a recipient
# dropped, never a queue file gone while a recipient waits. Messages to a
# local user and to a remote one that never answers (retried every
# second, so each state file is replaced again and again) run while the
# image is copied (tests/pmtest.py's CrashFS) at moments through the run.
# Each copy, fsck'd: every queue file whole, the local copy delivered or
# due, and queue-run on the copy delivers the local recipient at most
# once more and keeps the remote one queued. What became of the state
# files is shown (diagnostics). On ext4 without a journal and with one.
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.crash_tap()   # from here on in a mount namespace of its own
N, SNAPS = 6, 6
env = pmtest.Env()
pmtest.route_nowhere(env)
TAGS = [b"state-crash-%02d" % i for i in range(N)]


def message(tag):
    return b"Subject: " + tag + b"\n\n" + b"".join(b"body line %d\n" % i for i in range(200))


def queued(queue):
    """tag -> queue id of the whole queue files; and the ids of the others"""
    out, other = {}, []
    d = os.path.join(queue, "mess")
    for f in os.listdir(d) if os.path.isdir(d) else []:
        m = pmtest.queue_file_message(os.path.join(d, f))
        tag = m and re.match(rb"Subject: (state-crash-\d\d)\n", m)
        if tag:
            out[tag.group(1)] = f
        else:
            other.append(f)
    return out, other


def state_kind(queue, qid):
    p = os.path.join(queue, "state", qid)
    if not os.path.exists(p):
        return "missing"
    b = open(p, "rb").read()
    if not b:
        return "empty"
    if not b.strip(b"\0"):
        return "zeros"
    return "whole" if b.startswith(b"PMS1 ") and b.endswith(b"\n") and b.count(b"\n") == 3 else "torn"


def run_queue(log):
    return pmtest.queue_run_group(env, log, "-b", "1", "-m", "1")


for journal in (False, True):
    fs, md, kind = pmtest.crash_queue(env, journal, "demo%d@example.test" % journal, size_mb=16)
    rcpts = ["demo%d@example.test" % journal, "far@remote.test"]
    refused = [tag for tag in TAGS if pmtest.queue_add(env, "s@sender.test", rcpts, message(tag)) != 0]
    t.eq(refused, [], "%s: queued" % kind)
    fs.settle()
    log = env.path("queue-run-%d.log" % journal)
    qr = run_queue(log)
    snaps = []
    pmtest.wait_for(lambda: len(pmtest.log_event(open(log, "rb").read().decode(errors="replace"), "delivery")) >= 2 * N, 10)
    end = time.monotonic() + 3.5
    while time.monotonic() < end and len(snaps) < SNAPS:
        time.sleep(0.5)
        snaps.append(fs.snapshot(stop_groups=[qr.pid]))
    attempts = len([e for e in pmtest.log_event(open(log, "rb").read().decode(errors="replace"), "delivery")
                    if e.get("channel") != "local"])
    pmtest.stop_group(qr)
    t.ok(attempts >= 2 * N, "%s: each remote recipient tried more than once meanwhile (%d tries)" % (kind, attempts))

    problems, states, counts = [], {}, []
    for i, snap in enumerate(snaps):
        rc, text = fs.fsck(snap)
        if rc not in (0, 1):
            continue
        at = fs.mount(snap, rw=True, at=fs.mnt)
        q, other = queued(env.queue)
        problems += ["copy %d: %s's queue file gone or not whole" % (i, tag.decode()) for tag in TAGS if tag not in q]
        for tag, qid in q.items():
            k = state_kind(env.queue, qid)
            states[k] = states.get(k, 0) + 1
        qr = run_queue(log)
        pmtest.wait_for(lambda: all(pmtest.subject_copies(md, tag) for tag in TAGS), 10)
        time.sleep(0.3)   # a second copy, were one coming, would be there by now
        pmtest.stop_group(qr)
        counts.append(sorted(pmtest.subject_copies(md, tag) for tag in TAGS))
        q, other = queued(env.queue)
        problems += ["copy %d: %s gone from the queue after queue-run, its remote recipient never delivered" %
                     (i, tag.decode()) for tag in TAGS if tag not in q]
        fs.unmount(at)
        os.unlink(snap)
    fs.fsck_verdicts(t, kind)
    t.ok(not problems, "%s: in every copy every message stays queued for its remote recipient" % kind,
         "\n".join(problems))
    t.ok(all(c and c[0] >= 1 and c[-1] <= 2 for c in counts),
         "%s: queue-run on each copy: the local recipient has it once or twice" % kind, counts)
    t.diag("%s: local copies per message, per crashed copy: %s" % (kind, counts))
    t.diag("%s: the state files the copies held: %s" % (kind, states))
t.done()
