#!/usr/bin/python3
# queue-add with an empty message (qmail-queue takes one: a filter or an
# injector may pass zero bytes): exit 0 means it is mail, so the queue
# file must be one that queue-run reads and delivers, not one it takes
# for an unfinished write. The short envelope used to go in the first
# page with the message region at 4096, past the end of the file.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")

t.eq(queue_add(env, "sender@example.org", ["demo@example.test"], b""), 0, "empty message: exit 0")
r = env.run(["queue-list"], check=False)
t.ok(r.returncode == 0 and b"1 message" in r.stdout, "queue-list reads it as a message", r.stdout + r.stderr)

log = open(env.path("queue-run.log"), "ab")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "2"], stderr=log)
t.ok(wait_for(lambda: len(maildir_files(demo)) == 1 and not queue_files(env)), "queue-run delivers it",
     open(env.path("queue-run.log"), "rb").read())
qr.terminate()
qr.wait(15)
got = [open(f, "rb").read() for f in maildir_files(demo)]
t.eq(got, [b"Return-Path: <sender@example.org>\nDelivered-To: demo@example.test\n"],
     "the delivered file is the two envelope lines and nothing else")
t.ok(not os.path.isdir(os.path.join(env.queue, "bad")) or not os.listdir(os.path.join(env.queue, "bad")),
     "nothing set aside in bad/")

# a one-byte message still keeps its envelope in the first page
before = set(os.listdir(os.path.join(env.queue, "mess")))
t.eq(queue_add(env, "sender@example.org", ["demo@example.test"], b"x"), 0, "one-byte message: exit 0")
f = [x for x in os.listdir(os.path.join(env.queue, "mess")) if x not in before]
t.ok(len(f) == 1 and os.path.getsize(os.path.join(env.queue, "mess", f[0])) == 4097,
     "file size 4096 + 1: envelope in the first page, message at 4096")
t.done()
