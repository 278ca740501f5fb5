#!/usr/bin/python3
# A mailbox reached twice through aliases gets one copy: an alias
# expanding to a recipient the message also names directly (To: team, u),
# an alias with one local target beside that target (To: bobby, u), and
# nested aliases (list2 -> v, team; team -> u, v), two lists sharing a
# member (To: team, team2), and a domain's catch-all reached twice. Our
# users database matches a local part in any case, so W and w are one
# mailbox here. Two aliases naming each other still loop and bounce.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies

t = pmtest.TAP()
env = pmtest.Env(domains=("example.test", "other.test"))
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
w = env.add_user("W@example.test", "pw")
for alias, targets in (("team@example.test", ["u@example.test", "v@EXAMPLE.test"]),
                       ("bobby@example.test", ["u@example.test"]),
                       ("list2@example.test", ["v@example.test", "team@example.test"]),
                       ("caps@example.test", ["u@example.test", "w@example.test", "W@example.test"]),
                       ("team2@example.test", ["v@example.test", "W@example.test"]),
                       ("@other.test", ["w@example.test"]),
                       ("loop1@example.test", ["loop2@example.test"]),
                       ("loop2@example.test", ["loop1@example.test"])):
    env.run([pmtest.bin("mailuser"), "alias", "add", alias] + targets)

cases = ((b"one", ["team@example.test", "u@example.test"]),
         (b"two", ["bobby@example.test", "u@example.test"]),
         (b"three", ["list2@example.test"]),
         (b"four", ["team@example.test"]),
         (b"five", ["u@example.test", "team@example.test", "bobby@example.test"]),
         (b"six", ["caps@example.test", "W@example.test"]),
         (b"seven", ["team@example.test", "team2@example.test"]),
         (b"eight", ["x1@other.test", "x2@other.test", "bobby@example.test"]))
for subj, rcpts in cases:
    t.eq(queue_add(env, "a@b.test", rcpts, b"Subject: " + subj + b"\n\nbody\n"), 0, "queued " + subj.decode())
# two aliases naming each other: neither leaves the copy to the other
# (nothing would be delivered); the loop is found and bounced as before
t.eq(queue_add(env, "v@example.test", ["loop1@example.test", "loop2@example.test"], b"Subject: loop\n\nbody\n"), 0,
     "queued loop")
qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("qr.log"), "wb"))
want = {u: [(b"one", 1), (b"two", 1), (b"three", 1), (b"four", 1), (b"five", 1), (b"six", 1), (b"seven", 1),
            (b"eight", 1)],
        v: [(b"one", 1), (b"three", 1), (b"four", 1), (b"five", 1), (b"seven", 1)],
        w: [(b"six", 1), (b"seven", 1), (b"eight", 1)]}


def counts():
    return dict((m, [(s, subject_copies(m, s)) for s, n in l]) for m, l in want.items())


def bounced():
    return [f for f in pmtest.maildir_files(v) if b"mail loop" in open(f, "rb").read()]


t.ok(wait_for(lambda: not queue_files(env) and bounced() and all(n >= 1 for l in counts().values() for s, n in l), 30),
     "all delivered", open(env.path("qr.log")).read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
got = counts()
for m, l in want.items():
    t.eq(got[m], l, "one copy each in " + os.path.basename(os.path.dirname(m.rstrip("/"))))
t.ok(len(bounced()) >= 1, "the alias loop bounced to its sender")
t.done()
