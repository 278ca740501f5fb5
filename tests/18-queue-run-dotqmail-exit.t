#!/usr/bin/python3
# A delivery file's |command exit codes as qmail-command(8) reads them:
# 0 next line, 99 stop with success (later lines not carried out), 100
# and the hard errors 64, 65, 70, 76, 77, 78, 112 fail the recipient
# permanently (one report, no retry), anything else (111, 75, 1, a
# signal) defers it.
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
cases = {"stop": ("|exit 99\n./\n", "ok"), "next": ("|exit 0\n./\n", "ok"), "bounce": ("./\n|exit 100\n", "perm"),
         "sig": ("|kill -9 $$\n", "temp"), "soft": ("|exit 111\n", "temp"), "tempfail": ("|exit 75\n", "temp"),
         "one": ("|exit 1\n", "temp")}
for c in (64, 65, 70, 76, 77, 78, 112):
    cases["hard%d" % c] = ("|exit %d\n" % c, "perm")
boxes = {}
for name, (dq, _) in cases.items():
    md = pmtest.mailbox(env.add_user(name + "@example.test", "pw"))
    p = os.path.join(md, ".qmail")
    with open(p, "w") as f:
        f.write(dq)
    os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
    os.chmod(p, 0o644)
    boxes[name] = md
    t.eq(queue_add(env, "sender@example.test", [name + "@example.test"], b"Subject: " + name.encode() + b"\n\nbody\n"),
         0, "queued for " + name)
qr = env.start([pmtest.bin("queue-run"), "-b", "1000", "-m", "1000"], stderr=open(env.path("qr.log"), "wb"))


def log():
    return open(env.path("qr.log"), "rb").read().decode(errors="replace")


def status(name):
    m = re.search(r"rcpt=%s@example.test channel=local status=(\w+)" % name, log())
    return m and m.group(1)


t.ok(wait_for(lambda: all(status(n) for n in cases), 20), "every recipient tried", log())
for name, (_, want) in sorted(cases.items()):
    t.eq(status(name), want, "%s: %s" % (cases[name][0].strip().replace("\n", " / "), want))
t.eq(len(maildir_files(boxes["stop"])), 0, "exit 99: the lines after it are not carried out")
t.eq(len(maildir_files(boxes["next"])), 1, "exit 0: the next line is")
t.eq(len(maildir_files(boxes["bounce"])), 1, "exit 100 after a Maildir line: that copy stays")
nperm = sum(1 for _, w in cases.values() if w == "perm")
got = wait_for(lambda: len(maildir_files(snd)) >= nperm, 15)
t.eq(len(maildir_files(snd)), nperm, "one report per permanent failure")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.done()
