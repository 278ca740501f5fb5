#!/usr/bin/python3
# RFC 3461 6.2.7: a recipient that only forwards, to exactly one address
# (an alias with one remote target, or a delivery file whose one line is
# "&address"), is a hop, not a delivery. Its copy carries the DSN
# parameters on (RET, ENVID, NOTIFY, ORCPT), so the next hop answers a
# NOTIFY=SUCCESS, and queue-run sends no "delivered" report of its own.
# A recipient delivered here as well as forwarded still gets its
# "delivered" report; an alias with two targets gets an "expanded" one
# (RFC 3464 2.3.3). The copies of those two carry RET, ENVID and ORCPT on,
# and NOTIFY without SUCCESS (that was answered here), as Postfix does; a
# recipient that gave no ORCPT gets its own address as one (RFC 3461 4.2).
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files, dotqmail

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
solo = env.add_user("solo@example.test", "pw")
both = env.add_user("both@example.test", "pw")
multi = env.add_user("multi@example.test", "pw")
env.run(["mailuser", "alias", "add", "fwd@example.test", "far@remote.test"])
env.run(["mailuser", "alias", "add", "two@example.test", "far2@remote.test", "far3@remote.test"])
# nothing listens there: the forwarded copies wait in the queue
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())


dotqmail(solo, "&solofar@remote.test\n")
dotqmail(both, "./\n&bothfar@remote.test\n")
dotqmail(multi, "&m1@remote.test\n&m2@remote.test\n")


def envelope(id):
    """(recipients, DSN text) of queue file id"""
    with open(os.path.join(env.queue, "mess", id), "rb") as f:
        data = f.read()
    f = data[:64].split()
    off, n = int(f[3]), int(f[4])
    rcpts, dsn = [], None
    for field in data[off:off + n].split(b"\0"):
        if field.startswith(b"T"):
            rcpts.append(field[1:].decode())
        elif field.startswith(b"D"):
            dsn = field[1:].decode()
    return rcpts, dsn


rcpts = ["fwd@example.test", "solo@example.test", "both@example.test", "two@example.test", "multi@example.test"]
dsn = "RET=HDRS ENVID=env+2B1\n" + "".join("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig%d@example.org\n" % i
                                            for i in range(len(rcpts)))
t.eq(queue_add(env, "sender@example.test", rcpts, b"Subject: fw\n\nbody\n", dsn=dsn), 0, "queued with DSN parameters")
first = queue_files(env)[0]
qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("queue-run.log"), "wb"))
t.ok(wait_for(lambda: first not in queue_files(env), 15), "the message is finished")
copies = {}
for id in queue_files(env):
    try:
        r, d = envelope(id)
    except FileNotFoundError:
        continue   # the success report, delivered since the listing (queue-run runs on)
    if r == ["sender@example.test"]:
        continue   # the success report, on its way to the sender's mailbox
    for a in r:
        copies[a] = d
t.eq(sorted(copies), ["bothfar@remote.test", "far2@remote.test", "far3@remote.test", "far@remote.test",
                      "m1@remote.test", "m2@remote.test", "solofar@remote.test"],
     "every forwarded copy waits in the queue")
t.eq(copies.get("far@remote.test"), "RET=HDRS ENVID=env+2B1\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig0@example.org\n",
     "a one-target alias passes RET, ENVID, NOTIFY and ORCPT on")
t.eq(copies.get("solofar@remote.test"), "RET=HDRS ENVID=env+2B1\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig1@example.org\n",
     "so does a delivery file that only forwards, to one address")
t.eq(copies.get("bothfar@remote.test"), "RET=HDRS ENVID=env+2B1\nNOTIFY=FAILURE ORCPT=rfc822;orig2@example.org\n",
     "a delivery file that also delivers here passes NOTIFY on without SUCCESS")
t.eq(copies.get("far2@remote.test"), "RET=HDRS ENVID=env+2B1\nNOTIFY=FAILURE ORCPT=rfc822;orig3@example.org\n"
     "NOTIFY=FAILURE ORCPT=rfc822;orig3@example.org\n", "so does an alias with two targets, a line for each")
t.eq(copies.get("far3@remote.test"), copies.get("far2@remote.test"), "(one copy for both)")
t.eq(len(maildir_files(both)), 1, "both@ delivered here too")
reports = wait_for(lambda: maildir_files(snd), 10)
t.eq(len(reports), 1, "one success report")
text = open(reports[0], "rb").read() if reports else b""
t.ok(b"Action: delivered" in text, "it says delivered (both@)")
t.eq(text.count(b"Action: expanded"), 2, "and expanded (two@, and multi@ whose file forwards to two)")
t.eq(text.count(b"Action: "), 3, "for those three recipients only")
for i, (a, want) in enumerate(zip(rcpts, [False, False, True, True, True])):
    t.eq(("orig%d@example.org" % i).encode() in text, want,
         "%s %s in it" % (a, "is" if want else "is not"))
qr.terminate()
qr.wait(10)
t.done()
