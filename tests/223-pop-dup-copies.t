#!/usr/bin/python3
# pop-serve and one unique part in both new/ and cur/ (a mover that died
# between link and unlink): two messages in the session. When another
# client removes one copy during the session, deleting or fetching that
# one must not fall through to the other copy, which the user kept.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER, PW = "u@example.test", "dup pw"
md = env.add_user(USER, PW)
port = env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
UNIQ = "1000000005.dup.host"
CUR, NEW = os.path.join(md, "cur", UNIQ + ":2,S"), os.path.join(md, "new", UNIQ)


def plant():
    for sub in ("cur", "new"):
        for n in os.listdir(os.path.join(md, sub)):
            os.unlink(os.path.join(md, sub, n))
    for p in (CUR, NEW):
        with open(p, "wb") as f:
            f.write(b"Subject: dup\n\nx\n")
        os.chown(p, pmtest.MAILUID, pmtest.MAILGID)


def session():
    r = pmtest.PopRaw(port)
    t.ok(r.login(USER, PW).startswith(b"+OK 2 "), "two messages")
    r.send(b"UIDL\r\n")
    r.line()
    uidl = {l.split()[1].decode(): int(l.split()[0]) for l in r.multi()}
    t.ok(UNIQ in uidl and len(uidl) == 2, "the cur/ copy keeps the unique part as its UIDL", uidl)
    return r, uidl[UNIQ], [n for u, n in uidl.items() if u != UNIQ][0]


def dele_removed(which, kept):
    """DELE one copy, which another client removes before QUIT"""
    plant()
    r, cur_no, new_no = session()
    t.ok(r.cmd(b"DELE %d" % (new_no if which == NEW else cur_no)).startswith(b"+OK"), "DELE " + which)
    os.unlink(which)
    t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
    r.close()
    t.ok(os.path.exists(kept), "the other copy, not deleted, is kept")


dele_removed(NEW, CUR)
dele_removed(CUR, NEW)

# a copy renamed by another client (a flag) is still found under its new name
plant()
r, cur_no, new_no = session()
os.rename(NEW, os.path.join(md, "cur", UNIQ + ":2,"))
a = r.cmd(b"RETR %d" % new_no)
r.multi()
t.ok(a.startswith(b"+OK"), "RETR of the renamed copy", a)
t.ok(r.cmd(b"DELE %d" % new_no).startswith(b"+OK"), "DELE it")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.eq(sorted(os.listdir(os.path.join(md, "cur")) + os.listdir(os.path.join(md, "new"))),
     [UNIQ + ":2,S"], "the renamed copy deleted, the other kept")
t.done()
