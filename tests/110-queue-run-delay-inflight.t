#!/usr/bin/python3
# A delay warning (-w) waits for the attempts in progress: it names the
# recipients still waiting, never one whose first delivery is running
# right now (here a delivery file that takes three seconds) and is about
# to succeed. The other recipient keeps failing for a while, so queue-run
# has reasons to look at the message every second meanwhile.
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, dotqmail

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
slow = env.add_user("slow@example.test", "pw")
dotqmail(slow, "|sleep 3\n./\n")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())   # nothing listens: 4xx, retried

t.eq(queue_add(env, "sender@example.test", ["slow@example.test", "a@remote.test"], b"Subject: slow\n\nbody\n"), 0,
     "queued")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-w", "1"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: maildir_files(slow), 20), "the slow recipient delivered")
reports = wait_for(lambda: maildir_files(snd), 20)
t.eq(len(reports), 1, "one delay warning")
text = open(reports[0], "rb").read() if reports else b""
finals = re.findall(rb"^Final-Recipient: rfc822; (\S+)$", text, re.M)
t.eq(finals, [b"a@remote.test"], "it names only the recipient still waiting")
t.ok(b"Action: delayed" in text, "Action: delayed")
qr.terminate()
qr.wait(10)
t.done()
