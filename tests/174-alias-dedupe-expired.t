#!/usr/bin/python3
# Alias dedupe never costs a mailbox its copy when the alias it leaves
# the copy to fails for a reason of its own. To: team1, team2;
# team1 -> u, v, r@remote.test (a forward queue-add keeps refusing);
# team2 -> u. team1 outlives the queue lifetime and is bounced; u must
# still have exactly one copy (the old rule left u to the pending team1:
# u got none), v none, and the sender one bounce that names team1 and
# not team2.
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies, maildir_texts

t = pmtest.TAP()
env = pmtest.Env()
s = env.add_user("s@example.test", "pw")
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "u@example.test", "v@example.test",
                               "r@remote.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team2@example.test", "u@example.test"])
stub, go = pmtest.queueadd_forwards_fail(env)
t0 = time.monotonic()
t.eq(queue_add(env, "s@example.test", ["team1@example.test", "team2@example.test"], b"Subject: expired\n\nbody\n"),
     0, "queued")
log = env.path("qr.log")
logtext = pmtest.log_reader(log)
qr = env.start([pmtest.bin("queue-run"), "-L", "2"], env={"PIPEMAIL_QUEUEADD": stub}, stderr=open(log, "wb"))
t.ok(wait_for(lambda: "rcpt=team1@example.test channel=local status=" in logtext() and
              "rcpt=team2@example.test channel=local status=ok" in logtext(), 30),
     "team1's forward refused, team2 finished", logtext())
# past the lifetime, team1's next refusal is its last
time.sleep(max(0.0, t0 + 3.5 - time.monotonic()))
if queue_files(env):
    pmtest.queue_retry(env)
t.ok(wait_for(lambda: "rcpt=team1@example.test channel=local status=expired" in logtext() and maildir_texts(s) and
              not queue_files(env), 30), "team1 expired and bounced", logtext())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq(subject_copies(u, b"expired"), 1, "u has its copy")
t.eq(subject_copies(v, b"expired"), 0, "v has none (team1 never went out)")
b = maildir_texts(s)
t.eq(len(b), 1, "one bounce to the sender")
t.ok(b and b"team1@example.test" in b[0] and b"team2@example.test" not in b[0], "it names team1 alone")
t.done()
