#!/usr/bin/python3
# While one domain is suspended as dead (test 301): local mail and another
# domain go as ever; the dead domain's name matches whatever its case; an
# admin's retry of one message sends it at once, as the probe; and a
# suspended recipient still expires by its message's lifetime (a failure
# report naming the suspension), never kept past it.
import email, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")

env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
loc = env.add_user("loc@example.test", "pw")
peer = SMTPPeer()
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("dead.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())
    f.write("live.test:[127.0.0.1]:%d tls=no\n" % peer.port)
logp = env.path("qr.log")
log = pmtest.log_reader(logp)


def tries(text, rcpt):
    return sum(1 for l in text.splitlines() if "event=delivery " in l and " rcpt=%s " % rcpt in l)


def queue_list():
    return subprocess.run([pmtest.bin("queue-list")], env=env.env, capture_output=True,
                          timeout=30).stdout.decode(errors="replace")


# a long suspension (30 s): nothing of dead.test is tried meanwhile
qr = env.start([pmtest.bin("queue-run"), "-d", "1", "-b", "30", "-m", "30", "-L", "3600"], stderr=open(logp, "wb"))
for i in range(3):
    queue_add(env, "sender@example.test", ["d%d@dead.test" % i], b"Subject: dead %d\n\nbody\n" % i)
t.ok(wait_for(lambda: "event=suspend domain=dead.test " in log(), 20), "dead.test suspended", log()[-2000:])
up = pmtest.queue_new(env, "sender@example.test", ["UP@DEAD.TEST"], b"Subject: upper\n\nbody\n")
queue_add(env, "sender@example.test", ["loc@example.test"], b"Subject: local\n\nbody\n")
queue_add(env, "sender@example.test", ["peer@live.test"], b"Subject: live\n\nbody\n")
t.ok(wait_for(lambda: pmtest.subject_copies(loc, b"local") == 1, 20), "local mail delivered meanwhile")
t.ok(wait_for(lambda: any(b"RCPT TO:<peer@live.test>" in c for s in peer.sessions for c in s["cmds"]), 20),
     "another domain delivered meanwhile")
t.ok(wait_for(lambda: "UP@DEAD.TEST" in queue_list() and "delivery temporarily suspended" in
              queue_list().split("UP@DEAD.TEST", 1)[1][:300], 20), "DEAD.TEST is dead.test: suspended", queue_list())
text = log()
t.eq(tries(text, "UP@DEAD.TEST"), 0, "and not tried")
t.eq(sum(tries(text, "d%d@dead.test" % i) for i in range(3)), 1, "one try for dead.test (one at a time, -d 1)")
t.eq(text.count("event=suspend "), 1, "one suspension logged")

# the admin's retry of one message: it goes now, the probe
t.eq(pmtest.queue_retry(env, [up]), 0, "queue-list retry")
t.ok(wait_for(lambda: tries(log(), "UP@DEAD.TEST") == 1 and log().count("event=suspend ") == 2, 20),
     "the retried message tried at once, and the domain suspended again", log()[-2000:])
t.eq(sum(tries(log(), "d%d@dead.test" % i) for i in range(3)), 1, "the others not")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")

# lifetime 4 s, suspensions of a second: every message expires, the
# suspended ones with the suspension's text

qr = env.start([pmtest.bin("queue-run"), "-d", "1", "-b", "1", "-m", "1", "-L", "4"], stderr=open(logp, "wb"))
for i in range(5):
    queue_add(env, "sender@example.test", ["e%d@dead.test" % i], b"Subject: expire %d\n\nbody\n" % i)
t.ok(wait_for(lambda: not queue_files(env), 30), "every message leaves the queue", log()[-3000:])
text = log()
t.ok(any("status=expired" in l and "delivery temporarily suspended" in l for l in text.splitlines()),
     "a suspended recipient expired with the suspension's text", text[-3000:])
failed = [f for f in maildir_files(snd) if b"Action: failed" in open(f, "rb").read()]
t.eq(len(failed), 9, "one failure report for each of the 9 messages to dead.test")
t.ok(any(b"e0@dead.test" in open(f, "rb").read() for f in failed), "the later ones among them")
peer.close()
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
