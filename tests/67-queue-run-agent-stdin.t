#!/usr/bin/python3
# What a user's delivery program (a "|command" line of the delivery file,
# run as the user) can read from its stdin: the message and nothing else.
# Handed the queue file itself, it could seek back to the envelope and
# read every recipient of the message (Bcc ones included), the sender's
# DSN parameters, and unlock the delivery's lock on the file.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
env.add_user("other@example.test", "pw")
prog = ("|python3 -c 'import os,sys; os.lseek(0,0,0); d=sys.stdin.buffer.read();"
        " f=open(\"dump.tmp\",\"wb\"); f.write(d); f.close(); os.rename(\"dump.tmp\",\"dump\")'\n")
with open(os.path.join(demo, ".qmail"), "w") as f:
    f.write(prog)
os.chown(os.path.join(demo, ".qmail"), pmtest.MAILUID, pmtest.MAILGID)
os.chmod(os.path.join(demo, ".qmail"), 0o644)
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(env.path("queue-run.log"), "wb"))

msg = b"Subject: for demo\n\nbody\n"
dump = os.path.join(demo, "dump")
t.eq(queue_add(env, "sender@example.test", ["demo@example.test", "hidden-bcc@elsewhere.test", "other@example.test"],
               msg, dsn="RET=HDRS ENVID=secret-envid\n\nNOTIFY=NEVER ORCPT=rfc822;hidden+40x.test\n\n"), 0, "queued")
t.ok(wait_for(lambda: os.path.exists(dump), 15), "the program ran")
data = open(dump, "rb").read() if os.path.exists(dump) else b""
t.eq(data, msg, "seeking its stdin to 0 the program reads the message, nothing before it")
t.ok(b"hidden-bcc" not in data and b"other@example.test" not in data, "no other recipient of the message")
t.ok(b"secret-envid" not in data and b"ORCPT" not in data, "no DSN parameters")
t.ok(wait_for(lambda: not queue_files(env), 15), "queue empty")
t.done()
