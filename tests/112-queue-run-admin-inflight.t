#!/usr/bin/python3
# queue-list delete / bounce for a message whose delivery is running right
# now: queue-run(8) and queue-list(8) say the delivery finishes first and
# the request is then carried out. Here each delivery fails temporarily
# once it is released. Before: the request skipped the busy recipient,
# whose temporary failure then put it back on the retry schedule: the
# deleted message stayed queued (and was delivered later), the bounced one
# was never bounced. The same for a remote recipient whose smtp-send -B
# worker holds the message (a stand-in that answers once released). And a delete of a message whose only work left is a
# success report it could not queue yet: before, the delete queued that
# report (or, failing again, kept the message), though a delete tells no
# one, as queue-list's offline delete does not.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files, dotqmail

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
marks = env.path("marks")
os.mkdir(marks)
os.chmod(marks, 0o777)
for u in ("del", "bnc"):
    md = env.add_user(u + "@example.test", "pw")
    # runs until released (bounded), then fails temporarily
    dotqmail(md, "|touch %s/%s.running; i=0; while [ ! -e %s/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
             "echo not now >&2; exit 111\n" % (marks, u, marks))
plain = env.add_user("plain@example.test", "pw")
# queue-add for reports, failing while the file noqueue exists
qa = env.path("qa")
with open(qa, "w") as f:
    f.write("#!/bin/sh\n[ -e %s ] && exit 71\nexec %s\n" % (env.path("noqueue"), pmtest.bin("queue-add")))
os.chmod(qa, 0o755)
# a stand-in "smtp-send -B": each job line answered "temp" once released
ss = env.path("smtp-send")
with open(ss, "w") as f:
    f.write("#!/bin/sh\nwhile read -r spec domain sender rcpts; do\n  touch %s/remote.running\n"
            "  i=0; while [ ! -e %s/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
            "  for r in $rcpts; do echo \"temp $r 4.4.1 - not now\"; done\n  echo .\ndone\n" % (marks, marks))
os.chmod(ss, 0o755)
logp = env.path("qr.log")
log = pmtest.log_reader(logp)


def queued(rcpt, subject):
    id = pmtest.queue_new(env, "sender@example.test", [rcpt], b"Subject: " + subject + b"\n\nbody\n")
    t.ok(id, "queued")
    return id


def ql(*a):
    return env.run(["queue-list"] + list(a), check=False).returncode


d = queued("del@example.test", b"deleted in flight")
b = queued("bnc@example.test", b"bounced in flight")
r = queued("r@remote.test", b"deleted in flight, remote")
qr = env.start([pmtest.bin("queue-run"), "-b", "3600"], env={"PIPEMAIL_QUEUEADD": qa, "PIPEMAIL_SMTPSEND": ss},
               stderr=open(logp, "wb"))
t.ok(wait_for(lambda: all(os.path.exists(os.path.join(marks, k + ".running")) for k in ("del", "bnc", "remote")), 20),
     "the three deliveries running")
t.eq(ql("delete", d), 0, "delete while its delivery runs")
t.eq(ql("bounce", b), 0, "bounce while its delivery runs")
t.eq(ql("delete", r), 0, "delete while its smtp-send -B worker has it")
t.ok(wait_for(lambda: log().count("event=admin") >= 3, 10), "queue-run took the requests")
open(os.path.join(marks, "go"), "w").close()   # the deliveries end: temporary failures

t.ok(wait_for(lambda: d not in queue_files(env), 20), "the deleted message left the queue", log())
t.ok(wait_for(lambda: r not in queue_files(env), 20), "so did the remote one", log())
reports = wait_for(lambda: maildir_files(snd), 20)
t.eq(len(reports), 1, "one report, for the bounced message only")
text = open(reports[0], "rb").read() if reports else b""
t.ok(b"bnc@example.test" in text and b"del@example.test" not in text and b"Action: failed" in text,
     "it names the bounced recipient as failed")
t.ok(wait_for(lambda: b not in queue_files(env), 20), "the bounced message left the queue", log())

open(env.path("noqueue"), "w").close()
s = pmtest.queue_new(env, "sender@example.test", ["plain@example.test"], b"Subject: success\n\nbody\n",
                     dsn="\nNOTIFY=SUCCESS\n")
t.ok(s, "queued with NOTIFY=SUCCESS")
t.ok(wait_for(lambda: maildir_files(plain) and "queue report for %s" % s in log(), 20),
     "delivered; its success report could not be queued", log())
os.unlink(env.path("noqueue"))
t.eq(ql("delete", s), 0, "delete it")
t.ok(wait_for(lambda: not queue_files(env), 10), "it left the queue (and nothing it queued is left)", log())
t.ok(not any(b"Action: delivered" in open(f, "rb").read() for f in maildir_files(snd)), "no success report sent for it")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
