#!/usr/bin/python3
# A recipient named twice gets one copy: smtp-recv taking the same RCPT
# twice (the domain in another case too), and queue-add given a repeated
# recipient with DSN lines, store it once, with the first one's DSN
# parameters, and queue-run delivers one copy. The local part's case is
# kept apart (RFC 5321 2.4: only the recipient's host may fold it).
import os, smtplib, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
port = env.server(["smtp-recv"])
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
refused = s.sendmail("a@b.test", ["u@example.test", "v@example.test", "u@example.test", "u@EXAMPLE.TEST"],
                     b"Subject: twice\r\n\r\nbody\r\n")
s.quit()
t.eq(refused, {}, "four RCPT accepted")


def envelopes():
    out = []
    for i in sorted(os.listdir(os.path.join(env.queue, "mess"))):
        with open(os.path.join(env.queue, "mess", i), "rb") as f:
            data = f.read()
        h = data[:64].split()
        envoff, envlen = int(h[3]), int(h[4])
        out.append(data[envoff:envoff + envlen].split(b"\0"))
    return out


e = envelopes()
t.eq([[f for f in x if f[:1] in (b"T", b"D")] for x in e], [[b"D\n\n\n", b"Tu@example.test", b"Tv@example.test"]],
     "queued once per address, in order, one DSN line each")
t.eq(queue_add(env, "a@b.test", ["v@example.test", "v@example.test"], b"Subject: dsn\n\nbody\n",
               "RET=HDRS\nNOTIFY=NEVER\nNOTIFY=SUCCESS ORCPT=rfc822;v+40example.test\n"), 0, "queue-add: queued")
dsn = [f for x in envelopes() for f in x if f[:5] == b"DRET="]
t.eq(dsn, [b"DRET=HDRS\nNOTIFY=NEVER\n"], "the first recipient's DSN line kept, the repeat's gone")
qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env) and len(maildir_files(u)) >= 1 and len(maildir_files(v)) >= 2, 20),
     "delivered", open(env.path("qr.log")).read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq((len(maildir_files(u)), len(maildir_files(v))), (1, 2), "one copy each per message")
t.done()
