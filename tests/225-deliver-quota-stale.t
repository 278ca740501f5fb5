#!/usr/bin/python3
# deliver-maildir and a stale maildirsize that says the Maildir is exactly
# full, or too full for this message. Mail removed by anything but a
# delivery or pop-serve's QUIT is not recorded in maildirsize, so after
# the user empties the Maildir that way the file still claims the old usage. Maildir++ says: a file
# older than 15 minutes is recounted before a message is refused. The
# recount used to happen only when the file said the Maildir was already
# past its quota, so a Maildir at exactly its quota, or one the next
# message would take past it, refused mail (111, in the end a bounce)
# forever although it was empty.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
body = b"S: x\n\n" + b"y" * 94 + b"\n"
size = len(b"Return-Path: <a@example.org>\nDelivered-To: b@example.test\n") + len(body)
HOUR_AGO = time.time() - 3600


def deliver(md, *opts):
    r = subprocess.run(pmtest.deliver_argv(md, *opts), input=body, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return r.returncode


def put(md, text, mtime):
    p = md + "/maildirsize"
    with open(p, "w") as f:
        f.write(text)
    os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
    os.utime(p, (mtime, mtime))


def lines(md):
    with open(md + "/maildirsize") as f:
        return f.read().splitlines()


def new(md):
    return len(os.listdir(md + "/new"))


cases = (
    # name, maildirsize, options
    ("count exactly at the quota", "2C\n%d 1\n%d 1\n" % (size, size), ()),
    ("bytes exactly at the quota", "%dS\n%d 2\n" % (2 * size, 2 * size), ()),
    ("bytes: this message would pass the quota", "%dS\n%d 1\n" % (2 * size, size + 50), ()),
    ("the same with -q", "%dS\n%d 1\n" % (2 * size, size + 50), ("-q", "%dS" % (2 * size))),
    ("the same with -Q (would bounce)", "2C\n0 2\n", ("-Q",)),
)
for i, (name, text, opts) in enumerate(cases):
    md = pmtest.mailbox(env.path("s%d" % i))   # empty: the user took everything
    put(md, text, HOUR_AGO)
    rc = deliver(md, *opts)
    t.eq((rc, new(md)), (0, 1), "stale maildirsize, " + name + ": recounted and delivered")
    l = lines(md)
    t.ok(len(l) >= 2 and l[1] == "0 0" and l[-1] == "%d 1" % size,
         name + ": maildirsize holds the recount and this delivery", l)

# a fresh file is believed (Maildir++): refused, nothing delivered, not rewritten
md = pmtest.mailbox(env.path("fresh"))
put(md, "2C\n%d 1\n%d 1\n" % (size, size), time.time())
t.eq((deliver(md), new(md)), (111, 0), "fresh maildirsize at the quota: 111, nothing delivered")
t.eq(lines(md), ["2C", "%d 1" % size, "%d 1" % size], "fresh maildirsize left as it was")

# stale and right: the recount confirms it, and the message is refused
md = pmtest.mailbox(env.path("full"))
for _ in range(2):
    deliver(md, "-q", "2C")
os.utime(md + "/maildirsize", (HOUR_AGO, HOUR_AGO))
t.eq((deliver(md), new(md)), (111, 2), "stale but true: recounted, still full, 111")
t.eq(deliver(md, "-Q"), 100, "... and 100 with -Q")
t.done()
