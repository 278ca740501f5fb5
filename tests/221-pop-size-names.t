#!/usr/bin/python3
# pop-serve and sizes in file names it cannot believe: a ",W=" past any
# real message (another program's name, a hand-made one) must not wrap
# STAT's total or a LIST size; such a message is measured from its file,
# and LIST, STAT and RETR agree on what is sent. A ",W=" counted otherwise
# than RETR sends is corrected by the first RETR.
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
# a ",W=" its writer counted otherwise than RETR sends (deliver-maildir
# counts a CR stored before LF as content; pop-serve sends it as the
# line end's): after the first RETR, LIST and STAT tell the bytes sent
md2 = env.add_user("v@example.test", PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
for body in (b"Subject: cr\n\na\r\r\nb\n", b"Subject: crs\n\nx\r\r\r\ny\r\r\n"):
    env.run(["deliver-maildir", "-u", ids, md2], input=body,
            env={"SENDER": "a@b.test", "RECIPIENT": "v@example.test", "DTLINE": ""})
r = pmtest.PopRaw(port)
t.ok(r.login("v@example.test", PW).startswith(b"+OK 2 "), "v: two messages")
sent = []
for n in (1, 2):
    r.cmd(b"RETR %d" % n)
    sent.append(len(b"".join(l[1:] if l.startswith(b".") else l for l in r.multi())))
    t.eq(r.cmd(b"LIST %d" % n), b"+OK %d %d\r\n" % (n, sent[-1]), "LIST %d after RETR: the bytes sent" % n)
t.eq(r.cmd(b"STAT"), b"+OK 2 %d\r\n" % sum(sent), "STAT after RETR: their sum")
t.ok(r.cmd(b"DELE 1").startswith(b"+OK"), "DELE 1")
t.eq(r.cmd(b"STAT"), b"+OK 1 %d\r\n" % sent[1], "STAT after DELE")
t.ok(r.cmd(b"RSET").startswith(b"+OK"), "RSET")
t.eq(r.cmd(b"STAT"), b"+OK 2 %d\r\n" % sum(sent), "STAT after RSET")
r.cmd(b"QUIT")
r.close()
t.done()
