#!/usr/bin/python3
# pop-serve and sizes in file names it cannot believe: a ",W=" past any
# real message (another program's name, a hand-made one) must not wrap
# STAT's total or a LIST size; such a message is measured from its file,
# and LIST, STAT and RETR agree on what is sent.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER, PW = "u@example.test", "size pw"
md = env.add_user(USER, PW)
msgs = (("cur", "1000000001.a.host,W=18446744073709551615:2,", b"Subject: a\n\nx\n"),
        ("cur", "1000000002.b.host,W=18:2,", b"Subject: b\n\nyy\n"),
        ("new", "1000000003.c.host,W=18446744073709551614", b"Subject: c\n\nno newline"),
        ("new", "1000000004.d.host,W=1099511627777", b"Subject: d\n\nd\n"))
for sub, name, body in msgs:
    p = os.path.join(md, sub, name)
    with open(p, "wb") as f:
        f.write(body)
    os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
wire = [b.replace(b"\n", b"\r\n") + (b"" if b.endswith(b"\n") else b"\r\n") for _, _, b in msgs]
port = env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
r = pmtest.PopRaw(port)
a = r.login(USER, PW)
total = sum(len(w) for w in wire)
t.eq(a, b"+OK 4 messages (%d octets)\r\n" % total, "login: the total of the real sizes")
t.eq(r.cmd(b"STAT"), b"+OK 4 %d\r\n" % total, "STAT does not wrap")
r.send(b"LIST\r\n")
r.line()
t.eq(r.multi(), [b"%d %d\r\n" % (i + 1, len(w)) for i, w in enumerate(wire)], "LIST: each size as sent")
for i, w in enumerate(wire):
    a = r.cmd(b"RETR %d" % (i + 1))
    got = b"".join(r.multi())
    t.eq((a, got), (b"+OK %d octets\r\n" % len(w), w), "RETR %d: its size and bytes" % (i + 1))
t.eq(r.cmd(b"STAT"), b"+OK 4 %d\r\n" % total, "STAT after RETR")
t.ok(r.cmd(b"DELE 1").startswith(b"+OK"), "DELE 1")
t.eq(r.cmd(b"STAT"), b"+OK 3 %d\r\n" % (total - len(wire[0])), "STAT after DELE")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
r.close()
t.done()
