#!/usr/bin/python3
# Mail a POP3 client deletes leaves the Maildir++ quota: QUIT appends a
# line with the removed bytes and count as negative numbers to
# maildirsize (as Courier and Dovecot do on expunge), so that the next
# delivery fits at once. Before, only deliveries wrote the file, and a
# full Maildir the user had just emptied still refused mail until the
# file was 15 minutes old: exit 111, or with -Q a bounce (100).
# DELE then RSET, or a dropped session, leaves the file alone.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
U = "u@example.test"
PW = "pw"
md = env.add_user(U, PW)
port = env.server(["pop-serve", "-P"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
MSG = b"Subject: q\n\n" + b"x" * 200 + b"\n"


def deliver(*opts):
    return subprocess.run(pmtest.deliver_argv(md, "-q", "100000S,3C", *opts), input=MSG,
                          env=pmtest.deliver_env(), capture_output=True).returncode


def usage():
    b = c = 0
    with open(os.path.join(md, "maildirsize")) as f:
        for l in f.read().splitlines()[1:]:
            x, y = l.split()
            b, c = b + int(x), c + int(y)
    return b, c


for i in range(3):
    deliver()
full = usage()
t.eq(full[1], 3, "three messages: the count quota is reached")
t.eq(deliver("-Q"), 100, "a fourth is refused (-Q)")
size = full[0] // 3

# DELE, RSET, QUIT: nothing removed, nothing recorded
r = pmtest.PopRaw(port)
r.login(U, PW)
r.cmd(b"DELE 1")
r.cmd(b"RSET")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "DELE, RSET, QUIT")
r.close()
t.eq(usage(), full, "maildirsize unchanged after RSET")

# a session that drops after DELE: nothing removed, nothing recorded
r = pmtest.PopRaw(port)
r.login(U, PW)
r.cmd(b"DELE 1")
r.close()
for _ in range(200):   # until the dropped session's process has let the lock go
    r = pmtest.PopRaw(port)
    a = r.login(U, PW)
    if not a.startswith(b"-ERR [IN-USE]"):
        break
    r.close()
    time.sleep(0.05)
t.ok(a.startswith(b"+OK 3 "), "a dropped session deleted nothing", a)
t.eq(usage(), full, "and recorded nothing")

r.cmd(b"DELE 1")
r.cmd(b"DELE 3")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "DELE 1, DELE 3, QUIT")
r.close()
t.eq(len(pmtest.maildir_files(md, "new")) + len(pmtest.maildir_files(md, "cur")), 1, "two messages removed")
t.eq(usage(), (full[0] - 2 * size, 1), "maildirsize records the removal of two messages and their bytes")
t.eq(deliver("-Q"), 0, "the next delivery fits at once")
t.eq(deliver("-Q"), 0, "and the one after it")
t.eq(deliver("-Q"), 100, "then the Maildir is full again")
t.done()
