#!/usr/bin/python3
# pop-serve and one unique part in both new/ and cur/. One file under
# both names (a mover that crashed between link and unlink) is one
# message: listed once, its new/ name removed. Two different files stay
# two messages: a RETR of the new/ one does not move it next to the cur/
# one, where the next login would list only one of the two and the other
# would stay hidden. Every file left is listed at the next login.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER, PW = "u@example.test", "copy pw"
md = env.add_user(USER, PW)
new, cur = os.path.join(md, "new"), os.path.join(md, "cur")


def put(path, body):
    with open(path, "wb") as f:
        f.write(body)
    os.chown(path, pmtest.MAILUID, pmtest.MAILGID)


put(os.path.join(cur, "1000000001.link.host:2,R"), b"Subject: link\n\nx\n")
os.link(os.path.join(cur, "1000000001.link.host:2,R"), os.path.join(new, "1000000001.link.host"))
put(os.path.join(cur, "1000000002.two.host:2,R"), b"Subject: two, old\n\nx\n")
put(os.path.join(new, "1000000002.two.host"), b"Subject: two, new\n\ny\n")
port = env.server(["pop-serve", "-P"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})


def session(retr):
    r = pmtest.PopRaw(port)
    a = r.login(USER, PW)
    r.send(b"UIDL\r\n")
    r.line()
    uidl = r.multi()
    subjects = []
    for n in range(1, len(uidl) + 1) if retr else ():
        r.cmd(b"RETR %d" % n)
        subjects.append([l for l in r.multi() if l.startswith(b"Subject:")])
    r.cmd(b"QUIT")
    r.close()
    return a, uidl, subjects


a, uidl, subjects = session(True)
t.ok(a.startswith(b"+OK 3 "), "one file under two names is listed once, two files twice", a)
t.eq(sorted(s[0] for s in subjects if s),
     [b"Subject: link\r\n", b"Subject: two, new\r\n", b"Subject: two, old\r\n"], "RETR: each message once")
t.ok(not os.path.exists(os.path.join(new, "1000000001.link.host")), "the linked copy's new/ name is removed")
files = sorted(os.listdir(new)) + sorted(os.listdir(cur))
for rnd in range(2):
    a2, uidl2, _ = session(False)
    t.eq(len(uidl2), len(files), "login %d after the RETRs: every file in new/ and cur/ listed" % (rnd + 1))
    t.eq(uidl2, uidl, "login %d: the same UIDLs as before" % (rnd + 1))
t.done()
