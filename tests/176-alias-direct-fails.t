#!/usr/bin/python3
# An alias target the message also names directly is left to that
# recipient's own delivery, even while it is pending, and if that
# delivery then fails for good nothing is dropped silently: the sender's
# bounce names that very address (queue-run(8); the alias's copy would
# have met the same delivery file). To: team, u; team -> u, v; u's
# delivery file fails for good (exit 100) after a temporary failure.
# u has no copy, v one, and the sender one bounce naming u, not team.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies, maildir_texts

t = pmtest.TAP()
env = pmtest.Env()
s, u, v = (env.add_user(a + "@example.test", "pw") for a in "suv")
env.run([pmtest.bin("mailuser"), "alias", "add", "team@example.test", "u@example.test", "v@example.test"])
fail = os.path.join(u, "fail")
# u: put off until the file "fail" is there, then refused for good
pmtest.dotqmail(u, "|test -e fail && exit 100; exit 111\n./\n")
t.eq(queue_add(env, "s@example.test", ["team@example.test", "u@example.test"], b"Subject: direct\n\nbody\n"), 0,
     "queued")
log = env.path("qr.log")
logtext = pmtest.log_reader(log)
qr = env.start([pmtest.bin("queue-run")], stderr=open(log, "wb"))
t.ok(wait_for(lambda: "rcpt=u@example.test channel=local status=temp" in logtext() and
              "rcpt=team@example.test channel=local status=ok" in logtext(), 30),
     "u put off, team finished", logtext())
open(fail, "w").close()
t.eq(pmtest.queue_retry(env), 0, "retry requested")
t.ok(wait_for(lambda: not queue_files(env) and maildir_texts(s), 30), "u failed and bounced", logtext())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq(subject_copies(u, b"direct"), 0, "u has no copy")
t.eq(subject_copies(v, b"direct"), 1, "v has one")
b = maildir_texts(s)
t.eq(len(b), 1, "one bounce to the sender")
t.ok(b and b"u@example.test" in b[0] and b"team@example.test" not in b[0], "it names u, not team")
t.done()
