#!/usr/bin/python3
# The sizes deliver-maildir writes into a name, checked against what
# pop-serve sends: ",S=" is the stored file's size and ",W=" the bytes a
# RETR sends before dot-stuffing (RFC 1939 11: CRLF line ends, stuffing
# not counted), so LIST and STAT are exact before any RETR. Inputs with a
# CR alone, CR CR LF, no final newline, a final CR, NUL bytes, only a
# header, and an empty message.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER, PW = "u@example.test", "sizes pw"
md = env.add_user(USER, PW)
inputs = (b"Subject: crlf\r\n\r\nb\r\n",
          b"Subject: cr\n\nx\ry\n",
          b"Subject: crcrlf\n\na\r\r\nb\n",
          b"Subject: crs\n\nx\r\r\r\ny\r\r\n",
          b"Subject: nonl\n\nbody no nl",
          b"Subject: endcr\n\nends in CR\r",
          b"Subject: nul\n\na\0b\r\n\0",
          b"Subject: only a header",
          b"Subject: dots\n\n.\n..x\n.",
          b"")
names = []
for body in inputs:
    before = set(os.listdir(os.path.join(md, "new")))
    env.run(pmtest.deliver_argv(md), input=body, env={"SENDER": "a@b.test", "RECIPIENT": USER, "DTLINE": ""})
    new = sorted(set(os.listdir(os.path.join(md, "new"))) - before)
    names.append(new[0] if len(new) == 1 else None)
t.ok(None not in names, "every message delivered", names)


def name_size(name, key):
    for part in name.split(":")[0].split(","):
        if part.startswith(key + "="):
            return int(part[2:])
    return None


r = pmtest.PopRaw(port := env.server(["pop-serve", "-P", "-n"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"}))
t.ok(r.login(USER, PW).startswith(b"+OK %d " % len(inputs)), "all messages listed")
r.send(b"LIST\r\n")
r.line()
listed = {int(l.split()[0]): int(l.split()[1]) for l in r.multi()}
stat = r.cmd(b"STAT")
sent = []
for n in range(1, len(inputs) + 1):
    head = r.cmd(b"RETR %d" % n)
    raw = b"".join(l[1:] if l.startswith(b".") else l for l in r.multi())
    sent.append(raw)
    t.eq((listed.get(n), int(head.split()[1])), (len(raw), len(raw)),
         "RETR %d (%r): LIST and +OK give the bytes sent" % (n, inputs[n - 1][:16]))
    t.ok(raw.endswith(b"\r\n"), "RETR %d ends in CRLF" % n, raw[-8:])
t.eq(stat, b"+OK %d %d\r\n" % (len(inputs), sum(len(s) for s in sent)), "STAT before RETR: the sum of the bytes sent")
r.cmd(b"QUIT")
r.close()
for name, raw in zip(names, sent):
    if not name:
        continue
    p = os.path.join(md, "new", name)
    size = os.path.getsize(p) if os.path.exists(p) else None
    t.eq((name_size(name, "S"), name_size(name, "W")), (size, len(raw)),
         "%s: S= is the file's size, W= the bytes RETR sent" % name[:40])
t.done()
