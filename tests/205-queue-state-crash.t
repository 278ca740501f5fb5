#!/usr/bin/python3
# queue-run's state files (lib/queue.c queue_state_save: written, closed
# and renamed over state/ID without an fsync of their own; state/ synced
# once per batch) under a power loss. A state file is only a record of
# what was done, so a crash may lose it, or leave it empty or old, and the
# worst that may follow is a recipient delivered again: never a recipient
# dropped, never a queue file gone while a recipient waits. Messages to a
# local user and to a remote one that never answers run while the image
# is copied (tests/pmtest.py's CrashFS) at moments through the run: first
# retried every second, so each state file is replaced again and again;
# then each starting as a killed queue-run leaves it (its local copy
# delivered, the result in state/ID.done, which the next queue-run applies
# to the state file and then removes). Each copy, fsck'd: every queue file
# whole, and queue-run on the copy delivers the local recipient at most
# once more and keeps the remote one queued. What became of the state
# files is shown (diagnostics). On ext4 without a journal and with one.
import os, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.crash_tap()   # from here on in a mount namespace of its own
N, SNAPS = 6, 4
env = pmtest.Env()
pmtest.route_nowhere(env)


def message(tag):
    return b"Subject: " + tag + b"\n\n" + b"".join(b"body line %d\n" % i for i in range(200))


def queued(queue):
    """tag -> queue id of the whole queue files; and the ids of the others"""
    out, other = {}, []
    d = os.path.join(queue, "mess")
    for f in os.listdir(d) if os.path.isdir(d) else []:
        m = pmtest.queue_file_message(os.path.join(d, f))
        tag = m and re.match(rb"Subject: ([a-z-]+-\d\d)\n", m)
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
    if b.startswith(b"ID " + qid.encode() + b"\n"):
        b = b.split(b"\n", 1)[1]
    return "whole" if b.startswith(b"PMS1 ") and b.endswith(b"\n") and b.count(b"\n") == 3 else "another file's bytes"


def run_queue(log):
    return pmtest.queue_run_group(env, log, "-b", "1", "-m", "1")


def scenario(fs, md, kind, what, leftover):
    """N messages to the local user and a remote one, run while copies
    are taken; with leftover, each starts as a killed queue-run leaves
    it: the local copy delivered and its result in state/ID.done"""
    tags = [b"%s-%02d" % (what.encode(), i) for i in range(N)]
    kind = "%s, %s" % (kind, what)
    rcpts = [os.path.basename(md), "far@remote.test"]
    refused = [tag for tag in tags if pmtest.queue_add(env, "s@sender.test", rcpts, message(tag)) != 0]
    t.eq(refused, [], "%s: queued" % kind)
    if leftover:
        q, other = queued(env.queue)
        for tag in tags:
            r = subprocess.run(pmtest.deliver_argv(md), input=message(tag), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=pmtest.deliver_env(SENDER="s@sender.test"))
            if r.returncode != 0:
                t.ok(False, "%s: %s's local copy delivered beforehand" % (kind, tag.decode()))
            with open(os.path.join(env.queue, "state", q[tag] + ".done"), "w") as f:
                f.write("0 ok 2.0.0 - delivered\n")
    fs.settle()
    log = env.path("queue-run-%s.log" % kind.replace(" ", "-"))
    qr = run_queue(log)
    snaps = []
    for pause in (0.05, 0.3, 0.6, 1.0) if leftover else (0.5,) * SNAPS:
        time.sleep(pause)
        snaps.append(fs.snapshot(stop_groups=[qr.pid]))
    attempts = len([e for e in pmtest.log_event(open(log, "rb").read().decode(errors="replace"), "delivery")
                    if e.get("channel") != "local"])
    pmtest.stop_group(qr)
    t.ok(attempts >= N, "%s: the remote recipients tried meanwhile (%d tries)" % (kind, attempts))

    problems, states, counts = [], {}, []
    for i, snap in enumerate(snaps):
        rc, text = fs.fsck(snap)
        if rc not in (0, 1):
            continue
        at = fs.mount(snap, rw=True, at=fs.mnt)
        q, other = queued(env.queue)
        problems += ["copy %d: %s's queue file gone or not whole" % (i, tag.decode()) for tag in tags if tag not in q]
        for tag in tags:
            k = state_kind(env.queue, q[tag]) if tag in q else "no queue file"
            if tag in q and os.path.exists(os.path.join(env.queue, "state", q[tag] + ".done")):
                k += " and .done"
            states[k] = states.get(k, 0) + 1
        qr = run_queue(log)
        pmtest.wait_for(lambda: all(pmtest.subject_copies(md, tag) for tag in tags), 10)
        time.sleep(0.3)   # a second copy, were one coming, would be there by now
        pmtest.stop_group(qr)
        counts.append(sorted(pmtest.subject_copies(md, tag) for tag in tags))
        q, other = queued(env.queue)
        problems += ["copy %d: %s gone from the queue after queue-run, its remote recipient never delivered" %
                     (i, tag.decode()) for tag in tags if tag not in q]
        fs.unmount(at)
        os.unlink(snap)
    t.ok(not problems, "%s: in every copy every message stays queued for its remote recipient" % kind,
         "\n".join(problems))
    t.ok(all(c and c[0] >= 1 and c[-1] <= 2 for c in counts),
         "%s: queue-run on each copy: the local recipient has it once or twice" % kind, counts)
    t.diag("%s: local copies per message, per crashed copy: %s" % (kind, counts))
    t.diag("%s: the state files the copies held: %s" % (kind, states))


def never_delivered(fs, md, kind):
    """Messages to a user over quota (each try fails temporarily) beside
    messages to one whose copy is delivered, all with a remote recipient
    too: their state files are replaced every second, each new one often
    in the inode another message's old one just freed. In no copy may
    queue-list (the state as queue-run reads it) call the over-quota
    recipient delivered"""
    full = "full-" + os.path.basename(md)
    env.add_user(full, "pw", maildir=md + ".full", quota=1)
    kind += ", over quota"
    for i in range(N):
        for who in (os.path.basename(md), full):
            if pmtest.queue_add(env, "s@sender.test", [who, "far@remote.test"], message(b"quota-%02d" % i)):
                t.ok(False, "queued")
    fs.settle()
    qr = run_queue(env.path("queue-run-quota.log"))
    snaps = []
    for k in range(SNAPS):
        time.sleep(0.5)
        snaps.append(fs.snapshot(stop_groups=[qr.pid]))
    pmtest.stop_group(qr)
    wrong = []
    for i, snap in enumerate(snaps):
        rc, text = fs.fsck(snap)
        if rc not in (0, 1):
            continue
        at = fs.mount(snap, rw=True)
        r = subprocess.run([pmtest.bin("queue-list")], env=dict(env.env, PIPEMAIL_QUEUE=at + "/queue"),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        wrong += ["copy %d: %s" % (i, l.strip()) for l in r.stdout.decode(errors="replace").splitlines()
                  if "<%s>" % full in l and not l.strip().startswith("pending")]
        fs.unmount(at)
        os.unlink(snap)
    t.ok(not wrong, "%s: in no copy is the recipient over quota taken for delivered" % kind, "\n".join(wrong))


for journal in (False, True):
    fs, md, kind = pmtest.crash_queue(env, journal, "demo%d@example.test" % journal, size_mb=16)
    scenario(fs, md, kind, "retried", False)
    scenario(fs, md, kind, "done-file", True)
    never_delivered(fs, md, kind)
    fs.fsck_verdicts(t, kind)
t.done()
