#!/usr/bin/python3
# A destination that does not answer (every connection refused): queue-run
# suspends it, as Postfix does ("delivery temporarily suspended"), instead
# of running smtp-send for each of its queued messages each retry round.
# 20 messages to a closed port: at most the first batches (concurrency
# per domain, 5) and one probe per suspension are tried, nothing bounces,
# queue-list tells why they wait; once the peer is up the probe's answer
# lets all 20 go. Before, each of the 20 tried its own connection.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")
N, PER_DOMAIN = 20, 5

env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
port = pmtest.free_port()   # nothing listens there until the peer comes up
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % port)
for i in range(N):
    queue_add(env, "sender@example.test", ["r%d@remote.test" % i], b"Subject: m%d\n\nbody\n" % i)
t.eq(len(queue_files(env)), N, "%d messages queued" % N)

logp = env.path("qr.log")
log = pmtest.log_reader(logp)
qr = env.start([pmtest.bin("queue-run"), "-d", str(PER_DOMAIN), "-b", "2", "-m", "2", "-L", "3600"],
               stderr=open(logp, "wb"))


def counts(text):
    tries = sum(1 for l in text.splitlines() if "event=delivery " in l and "channel=remote" in l)
    suspends = text.count("event=suspend domain=remote.test ")
    return tries, suspends


# two suspensions: the first result, then a probe that failed again (or,
# before the fix, every message tried at once)
wait_for(lambda: (lambda c: c[1] >= 2 or c[0] >= N)(counts(log())), 30)
text = log()
tries, suspends = counts(text)
t.ok(suspends >= 2, "the dead domain is suspended, and again after a failed probe (%d)" % suspends, text[-3000:])
# each suspension lets one probe out after it: no more tries than the
# first batches and those probes, whatever the timing
t.ok(tries <= PER_DOMAIN + suspends and tries < N,
     "far fewer tries than messages (%d tries, %d suspensions)" % (tries, suspends), text[-3000:])
t.ok("until=" in text and "event=suspend domain=remote.test until=" in text, "the suspension logged with its end")
t.eq(len(queue_files(env)), N, "all %d still queued" % N)
t.eq(maildir_files(snd), [], "none bounced")
ql = subprocess.run([pmtest.bin("queue-list")], env=env.env, capture_output=True, timeout=30).stdout.decode(errors="replace")
t.ok("delivery temporarily suspended: unable to connect" in ql, "queue-list shows why they wait", ql[-2000:])

# the peer comes up: the next probe is answered, then every message goes
peer = SMTPPeer(port=port)
t.ok(wait_for(lambda: not queue_files(env), 40), "all %d delivered once the peer answers" % N, log()[-3000:])
rcpts = set(c.split(b"<", 1)[1].split(b">", 1)[0].decode() for s in peer.sessions for c in s["cmds"]
            if c.upper().startswith(b"RCPT"))
t.eq(rcpts, set("r%d@remote.test" % i for i in range(N)), "the peer got every recipient")
t.ok("event=resume domain=remote.test" in log(), "the probe's answer ends the suspension")
t.eq(maildir_files(snd), [], "no report")
peer.close()
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
