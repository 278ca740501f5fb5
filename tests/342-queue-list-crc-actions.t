#!/usr/bin/python3
# queue-list's actions, queue-run not running, on a message whose text is
# damaged (its CRC wrong): they opened it as the listing did, CRC and
# all, and called it "no such message in the queue" (100) while its file
# sat in mess/. A delete or retry needs no text and now acts; a bounce
# does need it (the report quotes the message, and queue-run refuses to
# read one whose CRC fails: the sender would never hear), so it is
# refused, saying why. A damaged envelope is still no message (100), and
# the file is left alone.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, queue_files

t = pmtest.TAP()
env = pmtest.Env()
body = b"Subject: big\n\n" + b"the text of the message, long enough\n" * 400
ids = {}
for who in ("body", "env", "fine"):
    before = set(queue_files(env))
    t.eq(queue_add(env, who + "@example.org", ["r-" + who + "@remote.test"], body), 0, "queued " + who)
    ids[who] = (set(queue_files(env)) - before).pop()


def poke(who, off, b):
    with open(os.path.join(env.queue, "mess", ids[who]), "r+b") as f:
        f.seek(off)
        f.write(b)


def ql(*args):
    r = env.run(["queue-list"] + list(args), check=False)
    return r.returncode, r.stderr.decode()


poke("body", 4096 + 1000, b"\0" * 512)
poke("env", 64, b"Q")

for act in ("retry", "bounce", "delete"):
    rc, err = ql(act, ids["env"])
    t.eq(rc, 100, act + " of a damaged envelope: 100, as before")
    t.ok("no such message" in err, "it says so", err)
t.ok(ids["env"] in queue_files(env), "and leaves the file alone")

rc, err = ql("retry", ids["body"])
t.ok(rc == 0, "retry of a damaged text: 0", err)
rc, err = ql("bounce", ids["body"])
t.eq(rc, 100, "bounce of a damaged text: 100")
t.ok("damaged" in err and "no such message" not in err, "saying the text is damaged, not that it is gone", err)
out = env.run(["queue-list"]).stdout.decode()
t.ok("pending <r-body@remote.test>" in out, "its recipient still pending", out)
rc, err = ql("delete", ids["body"])
t.ok(rc == 0, "delete of a damaged text: 0", err)
t.ok(ids["body"] not in queue_files(env), "and it is gone")

rc, err = ql("bounce", ids["fine"])
t.ok(rc == 0, "bounce of an intact message: 0", err)
out = env.run(["queue-list"]).stdout.decode()
t.ok("failed <r-fine@remote.test>" in out, "its recipient failed", out)
t.done()
