#!/usr/bin/python3
# pop-serve on a full disk or over quota: the session lock file cannot be
# created (ENOSPC, EDQUOT, EROFS injected with strace on its path), which
# is just when the user must log in to fetch and delete mail. The login
# still works, locked on the Maildir directory instead; a second session
# is still refused IN-USE, also one that can create the lock file.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
USER, PW = "u@example.test", "lock pw"
md = env.add_user(USER, PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
for i in range(3):
    env.run(["deliver-maildir", "-u", ids, md], input=b"Subject: m%d\n\nbody %d\n" % (i, i),
            env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": ""})
lock = os.path.join(md, "pipemail-pop3.lock")
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}


def files():
    return sorted(os.listdir(os.path.join(md, "new")) + os.listdir(os.path.join(md, "cur")))


def server(err):
    """pop-serve whose openat(2) of the lock file fails with err"""
    return env.server(["pop-serve", "-P"], env=FAST,
                      wrap=["strace", "-f", "-o", "/dev/null", "-P", os.path.basename(lock), "-e", "trace=openat",
                            "-e", "inject=openat:error=" + err])


plain = env.server(["pop-serve", "-P"], env=FAST)
n = 3
for err in ("ENOSPC", "EDQUOT", "EROFS"):
    port = server(err)
    r = pmtest.PopRaw(port)
    a = r.login(USER, PW)
    t.ok(a.startswith(b"+OK %d " % n), "%s on the lock file: the login works" % err, a)
    if not a.startswith(b"+OK"):
        t.done()
        sys.exit(1)
    t.ok(not os.path.exists(lock), "%s: no lock file" % err)
    r2 = pmtest.PopRaw(port)
    a = r2.login(USER, PW)
    t.ok(a.startswith(b"-ERR [IN-USE]"), "%s: a second such session is refused IN-USE" % err, a)
    r2.close()
    r3 = pmtest.PopRaw(plain)
    a = r3.login(USER, PW)
    t.ok(a.startswith(b"-ERR [IN-USE]"), "%s: and so is one that can create the lock file" % err, a)
    r3.close()
    if os.path.exists(lock):
        os.unlink(lock)
    a = r.cmd(b"RETR 1")
    body = r.multi()
    t.ok(a.startswith(b"+OK") and r.end == b".\r\n", "%s: RETR" % err, a)
    t.ok(r.cmd(b"DELE 1").startswith(b"+OK"), "%s: DELE" % err)
    t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "%s: QUIT" % err)
    r.close()
    n -= 1
    t.ok(pmtest.wait_for(lambda: len(files()) == n, 5), "%s: the message was deleted" % err, files())

# and the other way round: a session holding the lock file keeps out one
# that cannot create it
r = pmtest.PopRaw(plain)
t.ok(r.login(USER, PW).startswith(b"+OK"), "a session with the lock file")
port = server("ENOSPC")
r2 = pmtest.PopRaw(port)
a = r2.login(USER, PW)
t.ok(a.startswith(b"-ERR [IN-USE]"), "keeps out one that cannot create it", a)
r2.close()
r.cmd(b"QUIT")
r.close()
t.done()
