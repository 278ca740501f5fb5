#!/usr/bin/python3
# Alias dedupe never costs a mailbox its copy when the alias it leaves
# the copy to changes while it waits. To: team1, team2;
# team1 -> u, v, r@remote.test (a forward, which queue-add refuses for
# now: team1 waits); team2 -> u.
# team2 must not count on team1 for u's copy: the admin then drops u
# from team1, and team1's retry goes to v alone. u has exactly one copy
# (the old rule left u to the pending team1 and u got none), v one.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies

t = pmtest.TAP()
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "u@example.test", "v@example.test",
                               "r@remote.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team2@example.test", "u@example.test"])
stub, go = pmtest.queueadd_forwards_fail(env)
t.eq(queue_add(env, "a@b.test", ["team1@example.test", "team2@example.test"], b"Subject: changed\n\nbody\n"), 0,
     "queued")
log = env.path("qr.log")
logtext = pmtest.log_reader(log)
qr = env.start([pmtest.bin("queue-run")], env={"PIPEMAIL_QUEUEADD": stub}, stderr=open(log, "wb"))
t.ok(wait_for(lambda: "rcpt=team1@example.test channel=local status=temp" in logtext() and
              "rcpt=team2@example.test channel=local status=ok" in logtext(), 30),
     "team1's forward put off, team2 finished", logtext())
env.run([pmtest.bin("mailuser"), "alias", "del", "team1@example.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "v@example.test"])
ids = queue_files(env)
t.eq(len(ids), 1, "the message waits for team1")
t.eq(pmtest.queue_retry(env, ids), 0, "retry requested")
t.ok(wait_for(lambda: not queue_files(env), 30), "the message finished", logtext())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq(subject_copies(u, b"changed"), 1, "u has its copy")
t.eq(subject_copies(v, b"changed"), 1, "v has one copy")
t.done()
