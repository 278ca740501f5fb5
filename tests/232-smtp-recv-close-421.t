#!/usr/bin/python3
# smtp-recv: every session the server ends on its own, while a reply can
# still be written, ends with "421 X.Y.Z <host> ..." (RFC 5321 3.8, 4.2.3),
# so the client knows the close was meant and tries again later. Before, a
# bare LF in a command and an unreadable BDAT size got their 500/501 and
# then a silent close; the other 421s did not name the host. A client that
# simply goes away gets nothing (there is no one to tell).
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_replies

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
QENV = {"TCPREMOTEIP": "192.0.2.7"}
HOST = "mx.close.test"
MAIL = b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\n"


def last(data, args=()):
    r = env.run(["smtp-recv", "-h", HOST, *args], input=data, env=QENV, check=False)
    rs = smtp_replies(r.stdout)
    err = r.stderr.decode(errors="replace")
    return rs, err


def closes(name, data, enh, end, args=(), before=None):
    rs, err = last(data, args)
    code, lines = rs[-1] if rs else (None, [""])
    t.ok(code == 421, name + ": the last reply is 421", rs[-3:])
    t.ok(lines[-1].startswith(enh + " " + HOST + " "), name + ": " + enh + " and the host name", lines)
    t.ok("end=" + end in err, name + ": end=" + end + " logged", err[-300:])
    if before is not None:
        t.eq(rs[-2][0] if len(rs) > 1 else None, before, name + ": the command's own reply first")


closes("bare LF in a command", b"EHLO x\r\nNOOP\nQUIT\r\n", "4.5.0", "bare-lf", before=500)
closes("BDAT size unreadable", MAIL + b"BDAT x\r\nQUIT\r\n", "4.5.0", "bdat-syntax", before=501)
closes("error cap (-e)", b"EHLO x\r\n" + b"FOO\r\n" * 5, "4.7.0", "errors", ["-e", "3"], before=500)
closes("AUTH failures (-a)", b"EHLO x\r\nAUTH PLAIN AHUAbm8=\r\n", "4.7.0", "authfail", ["-P", "-a", "1"])
closes("DATA refused with more sent", b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nDATA\r\nSubject: x\r\n\r\n.\r\n",
       "4.5.0", "data-unsynced", before=554)

# a client gone at EOF: no 421, it would be written to no one
rs, err = last(b"EHLO x\r\nNOOP")
t.eq([c for c, _ in rs], [220, 250], "EOF mid-command: no 421")

# timeouts, over a real stall (the pipe stays open)
import subprocess, threading


def stalled(data, args):
    p = subprocess.Popen([pmtest.bin("smtp-recv"), "-h", HOST, *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env.env, **QENV))
    w = threading.Timer(20, p.kill)
    w.start()
    p.stdin.write(data)
    p.stdin.flush()
    o = p.stdout.read()
    e = p.stderr.read().decode(errors="replace")
    w.cancel()
    p.stdin.close()
    p.wait()
    return smtp_replies(o), e


for name, data, args in (("idle command (-t)", b"EHLO x\r\nNO", ["-t", "1"]),
                         ("stalled DATA (-d)", MAIL + b"DATA\r\nsome", ["-d", "1"])):
    rs, err = stalled(data, args)
    code, lines = rs[-1] if rs else (None, [""])
    t.eq(code, 421, name + ": 421")
    t.ok(lines[-1].startswith("4.4.2 " + HOST + " "), name + ": 4.4.2 and the host name", lines)
    t.ok("end=timeout" in err, name + ": end=timeout logged", err[-300:])
t.done()
