#!/usr/bin/python3
# Alias dedupe (test 148) never costs a mailbox its copy: an alias's
# target is left to another alias only when a record says that alias
# made its copy (queue-run(8)). To: team1, team2; team1 -> y; team2 -> x,
# whose delivery fails temporarily. The admin then adds x to team1 (already delivered:
# it is not delivered again). The retry of team2 must still give x its
# copy: team1's targets as they are now were never delivered.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies

t = pmtest.TAP()
env = pmtest.Env()
x = env.add_user("x@example.test", "pw")
y = env.add_user("y@example.test", "pw")
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "y@example.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team2@example.test", "x@example.test"])
# x takes mail only once the file "go" is in its Maildir (temporary failure before)
pmtest.dotqmail(x, "|test -e go || exit 111\n./\n")
t.eq(queue_add(env, "a@b.test", ["team1@example.test", "team2@example.test"], b"Subject: retry\n\nbody\n"), 0,
     "queued")
log = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], stderr=open(log, "wb"))
t.ok(wait_for(lambda: subject_copies(y, b"retry") == 1 and "team2" in pmtest.log_reader(log)(), 30),
     "team1 delivered to y, team2 put off", pmtest.log_reader(log)())
env.run([pmtest.bin("mailuser"), "alias", "del", "team1@example.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "y@example.test", "x@example.test"])
open(os.path.join(x, "go"), "w").close()
ids = queue_files(env)
t.eq(len(ids), 1, "the message waits")
r = subprocess.run([pmtest.bin("queue-list"), "retry"] + ids, env=env.env, capture_output=True, timeout=30)
t.eq(r.returncode, 0, "retry requested")
t.ok(wait_for(lambda: not queue_files(env), 30), "the message finished", pmtest.log_reader(log)())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq(subject_copies(x, b"retry"), 1, "x has its copy")
t.eq(subject_copies(y, b"retry"), 1, "y has one copy")
t.done()
