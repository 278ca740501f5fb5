#!/usr/bin/python3
# pop-serve and a read(2) of a message that returns fewer bytes than asked
# before the end of the file (a FUSE or network file system may): it was
# taken for the end, so RETR sent the first part of the message and the
# terminator, a truncated message that looked whole. Now only a short
# read that reaches the size fstat(2) gave ends it. The short read is
# made with strace (retval injected: the read is not done, so its bytes
# are the buffer's stale ones; what matters here is that the rest of the
# message follows).
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
USER, PW = "u@example.test", "short pw"
md = env.add_user(USER, PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
big = b"Subject: big\n\n" + b"".join(b"line %05d " % i + b"z" * 88 + b"\n" for i in range(3000))
env.run(["deliver-maildir", "-u", ids, md], input=big,
        env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": ""})
new = os.path.join(md, "new")
name = os.listdir(new)[0]
port = env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"},
                  wrap=["strace", "-f", "-o", "/dev/null", "-P", os.path.join(new, name), "-e", "trace=read",
                        "-e", "inject=read:retval=100:when=2"])
r = pmtest.PopRaw(port)
t.ok(r.login(USER, PW).startswith(b"+OK 1 "), "login")
a = r.cmd(b"RETR 1")
body = b"".join(r.multi())
t.ok(a.startswith(b"+OK"), "RETR: +OK", a)
t.eq(r.end, b".\r\n", "the terminator")
t.ok(b"line 02999 " in body, "a short read in the middle did not end the message: its last line was sent", len(body))
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.done()
