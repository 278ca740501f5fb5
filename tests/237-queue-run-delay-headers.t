#!/usr/bin/python3
# A delay warning returns the message header only, even with RET=FULL:
# RET is about failures, and a report without one returns the header
# (RFC 3461 4.3), as the success report already did. Before, every delay
# warning carried the whole message (up to 256 KB, or all of it with
# RET=FULL) back to the sender while the message still sat in the queue.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())   # nothing listens: 4xx, retried

t.eq(queue_add(env, "sender@example.test", ["a@remote.test"], b"Subject: slow\n\nsecret body\n",
               dsn="RET=FULL ENVID=e1\nNOTIFY=DELAY,FAILURE\n"), 0, "queued with RET=FULL")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-w", "1"], stderr=open(env.path("qr.log"), "wb"))
reports = wait_for(lambda: maildir_files(snd), 20)
t.eq(len(reports or []), 1, "one delay warning")
text = open(reports[0], "rb").read() if reports else b""
t.ok(b"Action: delayed" in text, "Action: delayed")
t.ok(b"Content-Type: text/rfc822-headers\n\nSubject: slow\n" in text, "the header returned")
t.ok(b"secret body" not in text, "not the body")
qr.terminate()
qr.wait(10)
t.done()
