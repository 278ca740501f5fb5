#!/usr/bin/python3
# Results a killed run's child left in state/ID.done are applied by the
# next run. A local delivery recovered that way for a recipient that asked
# for NOTIFY=SUCCESS still owes the sender its "delivered" report (RFC 3461
# 5.2.3): the run that recovers it must send it, as the run that started
# the delivery would have. A remote "ok" recovered the same way needs none
# (smtp-send says "relayed" when the request ends with us), and a
# recovered "relayed" gets its "relayed" report.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
demo = env.add_user("demo@example.test", "pw")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())

rcpts = ["demo@example.test", "far@remote.test", "near@remote.test"]
t.eq(queue_add(env, "sender@example.test", rcpts, b"Subject: recovered\n\nbody\n",
               dsn="\nNOTIFY=SUCCESS ORCPT=rfc822;o0@example.org\nNOTIFY=SUCCESS ORCPT=rfc822;o1@example.org\n"
                   "NOTIFY=SUCCESS ORCPT=rfc822;o2@example.org\n"), 0, "queued")
id = queue_files(env)[0]
os.makedirs(os.path.join(env.queue, "state"), exist_ok=True)
# as a killed run's local child and smtp-send worker would have left them
with open(os.path.join(env.queue, "state", id + ".done"), "w") as f:
    f.write("0 ok 2.0.0 - delivered\n"
            "1 ok 2.0.0 mx.remote.test 250 ok\n"
            "2 relayed 2.0.0 mx.remote.test 250 ok\n")

qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("queue-run.log"), "wb"))
t.ok(wait_for(lambda: id not in queue_files(env), 15), "the message is finished",
     open(env.path("queue-run.log")).read())
reports = wait_for(lambda: maildir_files(snd), 10)
t.eq(len(reports), 1, "one report to the sender")
text = open(reports[0], "rb").read() if reports else b""
t.ok(b"Final-Recipient: rfc822; demo@example.test\nAction: delivered" in text.replace(b"\r\n", b"\n"),
     "the recovered local delivery is reported delivered")
t.ok(b"Final-Recipient: rfc822; near@remote.test\nAction: relayed" in text.replace(b"\r\n", b"\n"),
     "the recovered relay is reported relayed")
t.ok(b"far@remote.test" not in text, "the recovered remote ok is not reported")
t.eq(maildir_files(demo), [], "nothing delivered again")
qr.terminate()
qr.wait(10)
# queue-run(8)'s LOGGING names every status and channel the log used
man = open(os.path.join(pmtest.TOP, "man", "queue-run.8")).read()
words = set(re.findall(r"(?:status|channel)=([a-z|]+)", man))
named = {w for ws in words for w in ws.split("|")}
used = set(re.findall(r"event=delivery .*?channel=(\S+) status=(\S+)", open(env.path("queue-run.log")).read()))
t.ok(used and all(c in named and s in named for c, s in used), "queue-run(8) names what the log said", used)
t.done()
