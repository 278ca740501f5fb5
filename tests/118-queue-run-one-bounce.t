#!/usr/bin/python3
# A message to many recipients that all fail at once (here 300 unknown
# local users, delivered -l 5 at a time) gets one failure report naming
# them all, as queue-run(8) says: a report waits until every recipient
# due now has been tried, not just for the jobs running. Before, the
# report went out whenever a batch of jobs had ended together with the
# rest not yet started: three or more reports for 300 recipients (20,
# 889 and 91 for 1,000 with the default -l 20).
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
N = 300
rcpts = ["nobody%d@example.test" % i for i in range(N)]
t.ok(pmtest.queue_new(env, "sender@example.test", rcpts, b"Subject: to many\n\nbody\n"), "queued")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-l", "5"], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: not queue_files(env), 60), "the message is done")
t.ok(wait_for(lambda: not queue_files(env) and maildir_files(snd), 20), "reports delivered")
reports = maildir_files(snd)
t.eq(len(reports), 1, "one failure report")
named = set()
for f in reports:
    named |= set(re.findall(rb"^Final-Recipient: rfc822; (\S+)$", open(f, "rb").read(), re.M))
t.eq(len(named), N, "naming every recipient")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
