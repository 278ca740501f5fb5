#!/usr/bin/python3
# pop-serve when a message cannot be read (EIO injected with strace on
# that one file): before any byte of it was sent the client gets -ERR
# [SYS/TEMP] and the session goes on; in the middle of it the session
# ends without the terminator, so a truncated message never looks whole.
# One unreadable message never locks the user out of the others, and
# nothing is removed or lost.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
USER, PW = "u@example.test", "read pw"
md = env.add_user(USER, PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
big = b"Subject: big\n\n" + (b"z" * 99 + b"\n") * 3000   # several read(2) chunks
for body in (b"Subject: m1\n\nbody 1\n", b"Subject: m2\n\nbody 2\n", big):
    env.run(["deliver-maildir", "-u", ids, md], input=body,
            env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": ""})
new = os.path.join(md, "new")
names = sorted(os.listdir(new), key=pmtest.pop_order)


def files():
    return sorted(os.listdir(new) + os.listdir(os.path.join(md, "cur")))


def server(path, when="1+"):
    """pop-serve whose read(2)s of path fail with EIO (the when-th on)"""
    return env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"},
                      wrap=["strace", "-f", "-o", "/dev/null", "-P", path, "-e", "trace=read",
                            "-e", "inject=read:error=EIO:when=" + when])


before = files()

# the first read of message 1 fails: -ERR, and the session goes on
port = server(os.path.join(new, names[0]))
r = pmtest.PopRaw(port)
t.ok(r.login(USER, PW).startswith(b"+OK 3 "), "login")
a = r.cmd(b"RETR 1")
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "RETR of a message that cannot be read: -ERR [SYS/TEMP]", a)
a = r.cmd(b"TOP 1 0")
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "TOP of it: -ERR [SYS/TEMP]", a)
t.ok(r.cmd(b"STAT").startswith(b"+OK 3 "), "the session goes on")
a = r.cmd(b"RETR 2")
body = r.multi()
t.ok(a.startswith(b"+OK") and b"body 2\r\n" in body and r.end == b".\r\n", "another message is retrieved", (a, body))
t.ok(r.cmd(b"DELE 2").startswith(b"+OK"), "DELE 2")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.eq(files(), [n for n in before if n != names[1]], "only the deleted message was removed")
t.ok("unable to read" in env.log(port), "the read error is logged", env.log(port)[-500:])

# the second read of the big message fails: the session ends without
# the terminator (the client cannot take a truncated message for whole)
port = server(os.path.join(new, names[2]), when="2+")
r = pmtest.PopRaw(port)
t.ok(r.login(USER, PW).startswith(b"+OK 2 "), "login")
a = r.cmd(b"RETR 2")
body = r.multi()
t.ok(a.startswith(b"+OK"), "RETR: +OK for the first chunk", a)
t.eq(r.end, b"", "a read error in the middle ends the session without the terminator")
t.ok(len(b"".join(body)) < len(big), "with the message incomplete")
r.close()
t.eq(len(files()), 2, "nothing removed")

# a message without W= whose size cannot be counted at login: listed,
# refused at RETR; the rest of the mailbox stays readable
bare = os.path.join(new, "1000000000.M1P1.bare")
with open(bare, "wb") as f:
    f.write(b"Subject: bare\n\nno size in the name\n")
os.chown(bare, pmtest.MAILUID, pmtest.MAILGID)
port = server(bare)
r = pmtest.PopRaw(port)
a = r.login(USER, PW)
t.ok(a.startswith(b"+OK 3 "), "login with an unreadable message that has no size in its name", a)
if not a.startswith(b"+OK"):
    t.done()
    sys.exit(1)
a = r.cmd(b"RETR 1")
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "its RETR: -ERR [SYS/TEMP]", a)
a = r.cmd(b"RETR 2")
r.multi()
t.ok(a.startswith(b"+OK") and r.end == b".\r\n", "the others are retrieved", a)
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.ok(os.path.exists(bare), "the unreadable message is kept")
t.done()
