#!/usr/bin/python3
# pop-serve and one unique part in both new/ and cur/ (a mover that died
# between link and unlink): two messages in the session. When another
# client removes one copy during the session, deleting or fetching that
# one must not fall through to the other copy, which the user kept.
# And QUIT answers +OK only for messages that are gone: one another
# client keeps renaming while QUIT looks for it is -ERR [SYS/TEMP].
import os, sys, threading, time
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
# another client renames the message again and again while QUIT removes
# it (strace holds every unlinkat(2) for 0.3 s): +OK only if it is gone
if pmtest.strace_usable():
    plant()
    os.unlink(CUR)
    slow = env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"},
                      wrap=["strace", "-f", "-o", "/dev/null", "-e", "trace=unlinkat",
                            "-e", "inject=unlinkat:delay_enter=300000"])
    r = pmtest.PopRaw(slow)
    t.ok(r.login(USER, PW).startswith(b"+OK 1 "), "one message")
    t.ok(r.cmd(b"DELE 1").startswith(b"+OK"), "DELE 1")
    stop = []

    def flags(k):
        """a name not seen again for 1.5 s: longer than a held unlinkat"""
        return "".join(f for b, f in enumerate("DFPRT") if (k % 31 + 1) >> b & 1)

    def flip():
        k = 0
        while not stop:
            for sub in ("new", "cur"):
                for n in os.listdir(os.path.join(md, sub)):
                    try:
                        os.rename(os.path.join(md, sub, n), os.path.join(md, "cur", UNIQ + ":2," + flags(k)))
                    except OSError:
                        pass
            k += 1
            time.sleep(0.05)

    th = threading.Thread(target=flip)
    th.start()
    a = r.cmd(b"QUIT")
    stop.append(1)
    th.join()
    r.close()
    left = os.listdir(os.path.join(md, "cur")) + os.listdir(os.path.join(md, "new"))
    t.ok(a.startswith(b"-ERR [SYS/TEMP]") if left else a.startswith(b"+OK"),
         "QUIT says +OK only when the message is gone", (a, left))
else:
    t.diag("strace unusable here: the renaming race skipped")
t.done()
