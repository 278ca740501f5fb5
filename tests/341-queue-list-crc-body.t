#!/usr/bin/python3
# queue-list reads each message's header and envelope, never its text: a
# listing used to check every message's CRC, reading the whole queue to
# print a line a message (2,000 messages of 5 MB: 10 GB read). So a
# message whose text is damaged (its CRC wrong) is listed, and counted,
# as any other: it is queue-run's to find when it delivers, and to set
# aside in bad/ (test 58); hidden from the listing, it was mail the admin
# could not see. A damaged header or envelope is still not listed: there
# is nothing to list, and it may be a file queue-add is still writing.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, queue_files

t = pmtest.TAP()
env = pmtest.Env()
body = b"Subject: big\n\n" + b"the text of the message, long enough\n" * 400
ids = {}
for who in ("body", "head", "env", "fine"):
    before = set(queue_files(env))
    t.eq(queue_add(env, who + "@example.org", ["r-" + who + "@remote.test"], body), 0, "queued " + who)
    ids[who] = (set(queue_files(env)) - before).pop()


def path(who):
    return os.path.join(env.queue, "mess", ids[who])


def poke(who, off, b):
    with open(path(who), "r+b") as f:
        f.seek(off)
        f.write(b)


with open(path("body"), "rb") as f:
    head = f.read(64).split()
t.ok(len(head) == 6 and head[3] == b"64", "the envelope follows the header, the CRC ends it")
poke("body", 4096 + 1000, b"\0" * 512)   # the text damaged: the CRC no longer holds
poke("head", 0, b"PMQ9")                  # the header damaged
poke("env", 64, b"Q")                     # the envelope's first field damaged

r = env.run(["queue-list"], check=False)
out = r.stdout.decode()
t.eq(r.returncode, 0, "the listing exits 0")
t.ok("from <body@example.org>" in out and "pending <r-body@remote.test>" in out,
     "a message whose text is damaged is listed", out)
t.ok("from <fine@example.org>" in out, "an intact one is listed")
t.ok("head@example.org" not in out, "one whose header is damaged is not")
t.ok("env@example.org" not in out and "r-env@" not in out, "nor one whose envelope is damaged")
t.ok(out.endswith("2 messages, 2 pending recipients\n"), "the summary counts the two", out)
r = env.run(["queue-list", "-c"], check=False)
t.eq(r.stdout.decode(), "2 messages, 2 pending recipients\n", "and so does -c")
t.eq(sorted(queue_files(env)), sorted(ids.values()), "the listing moved and removed nothing")
t.done()
