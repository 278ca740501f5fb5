#!/usr/bin/python3
"""smtp-send and a recipient's DSN parameters with a UTF-8 ORCPT
(ORCPT=utf-8;..., RFC 6533), which smtp-recv accepts under SMTPUTF8 and
queue-run hands on (PIPEMAIL_DSN, or a -B job's DSN line). The whole
recipient line was thrown away as malformed: NOTIFY=NEVER did not reach
the next hop (the sender got the reports it refused) and NOTIFY=SUCCESS
to a peer without DSN was no "relayed". Now the line is kept: as it is for
a peer with SMTPUTF8, its characters as \\x{HEX} (utf-8-addr-xtext) for
one without."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
jorg = "j\u00f6rg@example.org"


def send(ext, rcpt, dsnline, batch=False):
    p = SMTPPeer({"ext": ext})
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write("example.org:[127.0.0.1]:%d tls=no\n" % p.port)
    e = dict(env.env)
    if batch:
        path = env.path("m")
        with open(path, "wb") as f:
            f.write(b"Subject: x\n\nbody\n")
        r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-w", "10"],
                           input=("DSN\tRET=HDRS\t%s\n%s example.org a@b.test %s\n" % (dsnline, path, rcpt)).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    else:
        e["PIPEMAIL_DSN"] = "RET=HDRS\n" + dsnline + "\n"
        r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "10", "example.org", rcpt],
                           input=b"Subject: x\n\nbody\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    p.close()
    rcpts = [c.decode() for s in p.sessions for c in s["cmds"] if c.startswith(b"RCPT")]
    return r.stdout.decode().split(" ")[0], rcpts, r.stderr.decode()


for batch in (False, True):
    how = "-B" if batch else "PIPEMAIL_DSN"
    st, rcpts, err = send([b"8BITMIME", b"DSN", b"SMTPUTF8"], jorg, "NOTIFY=NEVER ORCPT=utf-8;" + jorg, batch)
    t.eq((st, rcpts), ("ok", ["RCPT TO:<%s> NOTIFY=NEVER ORCPT=utf-8;%s" % (jorg, jorg)]),
         "%s: DSN and SMTPUTF8: NOTIFY and the UTF-8 ORCPT as given" % how)
    t.ok("malformed" not in err, "%s: no 'malformed line' warning" % how, err)
    st, rcpts, err = send([b"8BITMIME", b"DSN"], "jorg@example.org", "NOTIFY=NEVER ORCPT=utf-8;" + jorg, batch)
    t.eq((st, rcpts), ("ok", ["RCPT TO:<jorg@example.org> NOTIFY=NEVER ORCPT=utf-8;j\\x{F6}rg@example.org"]),
         "%s: DSN without SMTPUTF8: the ORCPT as utf-8-addr-xtext" % how)
    st, rcpts, err = send([b"8BITMIME"], "jorg@example.org", "NOTIFY=SUCCESS ORCPT=utf-8;" + jorg, batch)
    t.eq(st, "relayed", "%s: no DSN at the peer, NOTIFY=SUCCESS with a UTF-8 ORCPT: relayed" % how)

# still refused: 8-bit bytes outside an ORCPT=utf-8, and malformed UTF-8
for bad in ("NOTIFY=NEVER ORCPT=rfc822;" + jorg, "NOTIFY=NEVER ORCPT=utf-8;j\udcf6rg@example.org"):
    st, rcpts, err = send([b"8BITMIME", b"DSN", b"SMTPUTF8"], "jorg@example.org", bad)
    t.eq((st, rcpts), ("ok", ["RCPT TO:<jorg@example.org>"]), "a bad 8-bit DSN line is still dropped: %r" % bad)
t.done()
