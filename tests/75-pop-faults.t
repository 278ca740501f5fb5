#!/usr/bin/python3
# pop-serve under faults: every resource or I/O failure is a temporary
# -ERR ([SYS/TEMP]), never a wrong answer; other readers renaming or
# removing files mid-session; nothing deleted that was not asked for.
import os, shutil, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "fault pw"
md = env.add_user("u@example.test", PW)
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
for i in range(4):
    env.run(["deliver-maildir", "-u", ids, md], input=b"Subject: m%d\n\nbody %d\n" % (i, i),
            env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})
port = env.server(["pop-serve", "-P", "-n"], env=FAST)


class Raw(pmtest.PopRaw):
    def __init__(self):
        super().__init__(port)

    def login(self):
        return super().login("u@example.test", PW)


def names():
    return sorted(os.listdir(os.path.join(md, "new")) + os.listdir(os.path.join(md, "cur")))


# another reader renames (flags) and removes files during the session
r = Raw()
t.ok(r.login().startswith(b"+OK 4 "), "login")
r.s.sendall(b"UIDL\r\n")
r.f.readline()
uidl = r.multi()
new = os.path.join(md, "new")
first = sorted(os.listdir(new), key=lambda n: n.split(",")[0])
by_uid = {l.split()[1].decode(): int(l.split()[0]) for l in uidl}
victim, moved = first[0], first[1]
os.unlink(os.path.join(new, victim))
os.rename(os.path.join(new, moved), os.path.join(md, "cur", moved + ":2,F"))
a = r.cmd(b"RETR %d" % by_uid[victim.split(",")[0]])
t.ok(a.startswith(b"-ERR"), "RETR of a message removed by someone else: -ERR", a)
a = r.cmd(b"RETR %d" % by_uid[moved.split(",")[0]])
t.ok(a.startswith(b"+OK"), "RETR of a message renamed by someone else still works", a)
t.ok(b"body" in b"".join(r.multi()), "its content")
t.ok(r.cmd(b"NOOP").startswith(b"+OK"), "session goes on")
t.ok(r.cmd(b"DELE %d" % by_uid[moved.split(",")[0]]).startswith(b"+OK"), "DELE the renamed one")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.ok(not any(n.startswith(moved.split(",")[0]) for n in names()), "the renamed message was deleted under its new name")
t.eq(len(names()), 2, "the other two remain")

# a read-only cur/ and new/: deletions fail -> -ERR [SYS/TEMP], nothing lost
os.chmod(os.path.join(md, "new"), 0o555)
os.chmod(os.path.join(md, "cur"), 0o555)
before = names()
r = Raw()
r.login()
r.cmd(b"DELE 1")
a = r.cmd(b"QUIT")
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "QUIT with undeletable files: -ERR [SYS/TEMP]", a)
r.close()
t.eq(names(), before, "nothing removed, nothing lost")
os.chmod(os.path.join(md, "new"), 0o755)
os.chmod(os.path.join(md, "cur"), 0o755)

# unreadable messages: -ERR, the session goes on
all_files = [os.path.join(md, d, n) for d in ("new", "cur") for n in os.listdir(os.path.join(md, d))]
for p in all_files:
    os.chmod(p, 0)
r = Raw()
r.login()
a = r.cmd(b"RETR 1")
t.ok(a.startswith(b"-ERR"), "unreadable message: -ERR", a)
t.ok(r.cmd(b"STAT").startswith(b"+OK"), "session goes on")
r.cmd(b"QUIT")
r.close()
for p in all_files:
    os.chmod(p, 0o600)

# an unreadable message whose name carries no size (W=): the login still
# opens the mailbox, the message is listed and only its RETR fails
odd = os.path.join(md, "new", "1999999999.M1P1.elsewhere")
with open(odd, "wb") as f:
    f.write(b"Subject: not yours to read\n\nx\n")
os.chown(odd, 0, 0)
os.chmod(odd, 0)
r = Raw()
a = r.login()
t.ok(a.startswith(b"+OK"), "unreadable message without W=: the login succeeds", a)
n = int(r.cmd(b"STAT").split()[1])
t.ok(r.cmd(b"RETR %d" % n).startswith(b"-ERR"), "and its RETR fails")
r.cmd(b"QUIT")
r.close()
os.unlink(odd)

# the Maildir gone: a temporary error at login
hidden = md + ".away"
os.rename(md, hidden)
r = Raw()
a = r.login()
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "missing Maildir: -ERR [SYS/TEMP]", a)
t.eq(r.f.readline(), b"", "and the session ends")
r.close()
os.rename(hidden, md)

# the users database corrupt: temporary, never "wrong password"
cdb = os.path.join(env.conf, "users.cdb")
shutil.copy(cdb, cdb + ".good")
with open(cdb, "wb") as f:
    f.write(b"\xff" * 100)
r = Raw()
a = r.login()
t.ok(a.startswith(b"-ERR [SYS/TEMP]"), "corrupt users.cdb: -ERR [SYS/TEMP], not [AUTH]", a)
t.ok(r.cmd(b"NOOP").startswith(b"-ERR"), "still not logged in")
r.close()
os.rename(cdb + ".good", cdb)
r = Raw()
t.ok(r.login().startswith(b"+OK"), "repaired database: login works")
r.cmd(b"QUIT")
r.close()

# a client that stops reading: the session ends (write timeout), nothing deleted
port2 = env.server(["pop-serve", "-P", "-t", "1"], env=FAST)
big = b"Subject: big\n\n" + (b"y" * 999 + b"\n") * 20000
env.run(["deliver-maildir", "-u", ids, md], input=big,
        env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})
n0 = len(names())
s = socket.create_connection(("127.0.0.1", port2), 10)
s.sendall(b"USER u@example.test\r\nPASS " + PW.encode() + b"\r\nDELE 1\r\n" + b"RETR 3\r\n" * 20 + b"QUIT\r\n")
time.sleep(2.5)   # the server's 1 s write timeout passes while nobody reads
got = 0
s.settimeout(10)
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
except OSError:
    pass
s.close()
t.ok(got < 20 * len(big), "a client that does not read is cut off (%d bytes)" % got)
t.eq(len(names()), n0, "and nothing was deleted")
t.done()
