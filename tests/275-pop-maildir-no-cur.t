#!/usr/bin/python3
# pop-serve and a Maildir another tool made without cur/ (and tmp/): the
# login succeeds and the missing directories are made (mode 0700, the
# mailbox owner's), as Dovecot does, instead of -ERR [SYS/TEMP] at every
# login; RETR then moves the message to cur/. A Maildir with new/ missing
# too logs in to an empty mailbox.
import os, shutil, stat, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "nocur pw"
md = env.add_user("u@example.test", PW)
md2 = env.add_user("w@example.test", PW)
for m in (md, md2):
    os.makedirs(os.path.join(m, "new"), exist_ok=True)
    for sub in ("cur", "tmp"):
        shutil.rmtree(os.path.join(m, sub), ignore_errors=True)
    os.chown(m, pmtest.MAILUID, pmtest.MAILGID)
shutil.rmtree(os.path.join(md2, "new"))
p = os.path.join(md, "new", "1000000001.x.host")
with open(p, "wb") as f:
    f.write(b"Subject: x\n\nbody\n")
os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
os.chown(os.path.join(md, "new"), pmtest.MAILUID, pmtest.MAILGID)
port = env.server(["pop-serve", "-P"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})

r = pmtest.PopRaw(port)
t.eq(r.login("u@example.test", PW), b"+OK 1 messages (20 octets)\r\n", "no cur/ nor tmp/: the login sees the message")
t.eq(r.cmd(b"RETR 1"), b"+OK 20 octets\r\n", "RETR 1")
t.eq(r.multi(), [b"Subject: x\r\n", b"\r\n", b"body\r\n"], "its bytes")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
for sub in ("cur", "tmp"):
    st = os.stat(os.path.join(md, sub)) if os.path.isdir(os.path.join(md, sub)) else None
    t.ok(st and stat.S_IMODE(st.st_mode) == 0o700 and (os.getuid() != 0 or st.st_uid == pmtest.MAILUID),
         "%s/ made, mode 0700, the mailbox owner's" % sub)
t.ok(os.path.isdir(os.path.join(md, "cur")) and os.listdir(os.path.join(md, "cur")) == ["1000000001.x.host:2,S"],
     "RETR moved the message to cur/")

# a delivery still writing in tmp/: the login's sweep of 36-hour-old
# leftovers (unit maildir) must leave it be
inflight = os.path.join(md, "tmp", "1000000002.inflight.host")
with open(inflight, "wb") as f:
    f.write(b"Subject: half\n")
r = pmtest.PopRaw(port)
t.ok(r.login("u@example.test", PW).startswith(b"+OK"), "a second login")
r.cmd(b"QUIT")
r.close()
t.ok(os.path.exists(inflight), "a file being written in tmp/ survives the login's sweep")

r = pmtest.PopRaw(port)
t.eq(r.login("w@example.test", PW), b"+OK 0 messages (0 octets)\r\n", "no new/, cur/ nor tmp/: an empty mailbox")
r.cmd(b"QUIT")
r.close()
t.eq(sorted(d for d in os.listdir(md2) if os.path.isdir(os.path.join(md2, d))), ["cur", "new", "tmp"], "all three made")
t.done()
