#!/usr/bin/python3
# pop-serve red team: entries in new/ and cur/ that carry a message's name
# but are no regular file (a FIFO, a directory, a symlink). They are not
# messages: the session neither hangs (a FIFO's open(2) would block past
# every deadline, holding the mailbox lock) nor fails as a whole.
# And a message another reader moves from new/ to cur/ while the login
# scans the two (strace holds each directory's openat(2) for a while) is
# not listed twice; nor is a message another reader renames inside cur/
# (a flag change) while readdir(3) is between two getdents(2) batches of
# a large cur/, which can return both its old and its new name.
import os, shutil, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "odd pw"
md = env.add_user("u@example.test", PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
env.run(["deliver-maildir", "-u", ids, md], input=b"Subject: m\n\nbody\n",
        env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})
port = env.server(["pop-serve", "-P", "-t", "3"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
cur = os.path.join(md, "cur")
new = os.path.join(md, "new")


def session(cmds):
    """log in, send cmds; the answers (b"" once the session is gone or stuck)"""
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(6)
    f = s.makefile("rb")
    out = []
    try:
        f.readline()
        s.sendall(b"USER u@example.test\r\n")
        f.readline()
        s.sendall(b"PASS " + PW.encode() + b"\r\n")
        out.append(f.readline())
        for c in cmds:
            s.sendall(c + b"\r\n")
            a = f.readline()
            if a.startswith(b"+OK") and c.split()[0] in (b"LIST", b"UIDL", b"RETR"):
                while True:
                    l = f.readline()
                    if l in (b".\r\n", b""):
                        break
                    a += l
            out.append(a)
        s.sendall(b"QUIT\r\n")
        out.append(f.readline())
    except (socket.timeout, OSError):
        out.append(b"")
    s.close()
    return out


def odd(path, make):
    make(path)
    try:
        os.lchown(path, pmtest.MAILUID, pmtest.MAILGID)
    except OSError:
        pass


cases = [
    ("FIFO", lambda p: os.mkfifo(p, 0o600)),
    ("directory", lambda p: os.mkdir(p, 0o700)),
    ("symlink", lambda p: os.symlink("/etc/passwd", p)),
]
for what, make in cases:
    for sub, name in ((new, "1000000000.odd.host"), (cur, "1000000000.odd.host:2,")):
        path = os.path.join(sub, name)
        odd(path, make)
        a = session([b"LIST"])
        t.ok(a[0].startswith(b"+OK 1 messages"), "%s in %s/ without W=: login sees only the real message"
             % (what, os.path.basename(sub)), a)
        t.ok(a[-1].startswith(b"+OK"), "%s in %s/: QUIT answered" % (what, os.path.basename(sub)), a)
        os.rmdir(path) if what == "directory" else os.unlink(path)
    # with ",W=" the size is taken from the name: the file is not opened at login
    path = os.path.join(new, "1000000001.oddw.host,S=10,W=10")
    odd(path, make)
    a = session([b"STAT", b"RETR 1", b"UIDL"])
    t.ok(a[0].startswith(b"+OK 1 messages"), "%s with W=: not offered" % what, a)
    t.ok(len(a) > 3 and b"body" in a[2] and a[-1].startswith(b"+OK"), "%s with W=: RETR 1 is the real message, QUIT answered" % what, a)
    os.rmdir(path) if what == "directory" else os.unlink(path)

# nothing was left holding the mailbox
a = session([b"STAT"])
t.ok(a[0].startswith(b"+OK 1 messages"), "the mailbox is free afterwards", a)
t.ok(not os.path.exists(os.path.join(md, "new", "1000000000.odd.host")), "cleanup")

def traced_login(strace_args):
    """pop-serve under strace on a socketpair; USER answered, PASS sent
    (the login scan running): (socket, its reader, the process)"""
    a, b = socket.socketpair()
    p = env.start(["strace", "-o", "/dev/null"] + strace_args + [pmtest.bin("pop-serve"), "-P", "-t", "20"],
                  stdin=b, stdout=b, stderr=subprocess.DEVNULL, env={"TCPREMOTEIP": "127.0.0.1"})
    b.close()
    a.settimeout(15)
    f = a.makefile("rb")
    f.readline()
    a.sendall(b"USER u@example.test\r\n")
    f.readline()
    a.sendall(b"PASS " + PW.encode() + b"\r\n")
    return a, f, p


if shutil.which("strace"):
    for f in os.listdir(cur):
        os.rename(os.path.join(cur, f), os.path.join(new, f.split(":")[0]))   # back to new/
    a, f, p = traced_login(["-P", "new", "-P", "cur", "-e", "trace=openat", "-e", "inject=openat:delay_enter=1500000"])
    time.sleep(2.2)   # the first directory scanned, the second not yet
    for n in os.listdir(new):
        os.rename(os.path.join(new, n), os.path.join(cur, n + ":2,S"))
    a.sendall(b"UIDL\r\nQUIT\r\n")
    ans = [f.readline()]
    while True:
        l = f.readline()
        ans.append(l)
        if l in (b".\r\n", b""):
            break
    ans.append(f.readline())
    a.close()
    p.wait(20)
    t.ok(ans[0].startswith(b"+OK 0 messages") or ans[0].startswith(b"+OK 1 messages"),
         "a message moved new/ -> cur/ during the login scan is not listed twice", ans)
    a = session([b"STAT"])
    t.ok(a[0].startswith(b"+OK 1 messages"), "the next login lists it once", a)

    # a big cur/, every message's flags changed while the scan waits
    # between its first and second getdents64
    for d in (cur, new):
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
    N = 1500
    uniqs = set()
    for i in range(N):
        u = b"1%09d.M%dP1.host.example" % (i, i)
        uniqs.add(u)
        pth = os.path.join(cur, u.decode() + ",S=11,W=12:2,")
        with open(pth, "wb") as fh:
            fh.write(b"Subject: x\n")
        os.chown(pth, pmtest.MAILUID, pmtest.MAILGID)
    a, f, p = traced_login(["-P", cur, "-e", "trace=getdents64", "-e", "inject=getdents64:delay_enter=1500000:when=2"])
    time.sleep(0.8)
    for n in os.listdir(cur):
        os.rename(os.path.join(cur, n), os.path.join(cur, n + "F"))
    a.sendall(b"UIDL\r\nQUIT\r\n")
    f.readline()
    f.readline()
    ul = []
    while True:
        l = f.readline()
        if l in (b".\r\n", b""):
            break
        ul.append(l.split()[1])
    a.close()
    p.wait(20)
    t.ok(0 < len(ul) <= N and set(ul) <= uniqs and len(set(ul)) == len(ul),
         "flags changed in a big cur/ during the scan: no message listed twice (%d listed)" % len(ul),
         sorted(set(ul) - uniqs)[:5])
    a = session([b"STAT"])
    t.ok(a[0].startswith(b"+OK %d messages" % N), "the next login lists each once", a[0])
else:
    for _ in range(4):
        t.ok(True, "# SKIP strace not installed")
env.close()
t.done()
