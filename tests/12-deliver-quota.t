#!/usr/bin/python3
# deliver-maildir and the Maildir++ quota (maildirsize): over quota is 111
# (100 with -Q) with nothing delivered; every delivery appends its size;
# -q sets the quota; a corrupt, torn or oversized maildirsize is recounted.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
TOP = len(b"Return-Path: <a@example.org>\nDelivered-To: b@example.test\n")


def deliver(md, data, *opts):
    r = subprocess.run(pmtest.deliver_argv(md, *opts), input=data, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return r.returncode


def put(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pmtest.MAILUID, pmtest.MAILGID)


def get(path):
    with open(path) as f:
        return f.read()


def lines(md):
    return get(md + "/maildirsize").splitlines()


def count(md, sub="new"):
    return len(os.listdir(os.path.join(md, sub)))


body = b"S: x\n\n" + b"y" * 94 + b"\n"          # 101 bytes in, TOP + 101 stored
size = TOP + len(body)

# --- byte quota from an existing maildirsize
md = pmtest.mailbox(env.path("q1"))
put(md + "/maildirsize", "%dS\n0 0\n" % (2 * size + 10))
t.eq(deliver(md, body), 0, "under quota: delivered")
t.eq(lines(md)[-1].split(), [str(size), "1"], "maildirsize gets '<size> 1' appended")
t.eq(deliver(md, body), 0, "second message still fits")
t.eq(deliver(md, body), 111, "third message would pass the quota: 111")
t.eq((count(md), count(md, "tmp")), (2, 0), "nothing delivered, tmp/ empty")
t.eq(deliver(md, body, "-Q"), 100, "-Q: over quota is permanent, 100")
t.eq(deliver(md, b"", "-q", "0"), 0, "-q 0: no quota, whatever maildirsize says")

# --- message count quota
md = pmtest.mailbox(env.path("q2"))
put(md + "/maildirsize", "1000000S,2C\n")
r = [deliver(md, body) for _ in range(3)]
t.eq(r, [0, 0, 111], "2C: the third message is refused with 111")

# --- -q creates maildirsize, counting what is already there (folders too)
md = pmtest.mailbox(env.path("q3"), folders=("Junk",))
deliver(md, body)
deliver(md, body, "-f", "Junk")
t.eq(deliver(md, body, "-q", "100000"), 0, "-q with no maildirsize: delivered")
l = lines(md)
t.eq(l[0], "100000S", "maildirsize line 1 is the quota from -q")
used = sum(int(x.split()[0]) for x in l[1:]), sum(int(x.split()[1]) for x in l[1:])
t.eq(used, (3 * size, 3), "usage counts the Maildir and its folders (%r)" % (l,))
t.eq(deliver(md, body, "-q", "%dS" % (3 * size + 5)), 111, "-q lowered below the usage: 111")
t.eq(lines(md)[0], "%dS" % (3 * size + 5), "maildirsize rewritten with the new quota")
t.eq(deliver(md, body, "-f", "Junk"), 111, "a folder delivery counts against the Maildir's quota")

# --- corrupt, torn and oversized files are recounted, never cost a message
for what, text in (("garbage deltas", "100000S\nxx yy\n"),
                   ("torn last line", "100000S\n%d 1\n12" % size),
                   ("negative usage", "100000S\n-999999 -5\n"),
                   ("oversized file", "100000S\n" + "0 0\n" * 2000),
                   ("huge numbers", "100000S\n99999999999999999999999 1\n")):
    md = pmtest.mailbox(env.path("q-" + what.replace(" ", "-")))
    deliver(md, body, "-q", "0")
    put(md + "/maildirsize", text)
    rc = deliver(md, body)
    l = lines(md)
    t.ok(rc == 0 and len(get(md + "/maildirsize")) < 100 and l[0] == "100000S"
         and sum(int(x.split()[0]) for x in l[1:]) == 2 * size, what + ": delivered, maildirsize recounted", l[:4])

md = pmtest.mailbox(env.path("q4"))
put(md + "/maildirsize", "garbage\n")
t.eq(deliver(md, body), 0, "unreadable quota line and no -q: delivered without a quota")
t.eq(count(md, "tmp"), 0, "tmp/ empty after all of it")
t.done()
