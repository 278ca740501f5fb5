#!/usr/bin/python3
# smtp-recv over pipes with a fake queue program: every command, the
# extensions, error paths, limits, the queue program's exit codes.
import glob, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, smtp_replies

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
env.run(["mailuser", "alias", "add", "sales@example.test", "u@example.test"])
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
HERE = os.path.dirname(os.path.abspath(__file__))
QENV = {"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ,
        "TCPREMOTEIP": "192.0.2.7", "TCPREMOTEHOST": "client.example"}


def run(data, args=(), extra=None):
    e = dict(QENV)
    if extra:
        e.update(extra)
    r = env.run(["smtp-recv", *args], input=data, env=e, check=False, timeout=60)
    return r.stdout, r.stderr.decode("utf-8", "replace"), r.returncode


def queued():
    """[(message bytes, envelope list, dsn text)] and empty the fake queue."""
    out = []
    for m in sorted(glob.glob(os.path.join(FAKEQ, "msg.*"))):
        n = m.rsplit(".", 1)[1]
        with open(m, "rb") as f:
            msg = f.read()
        with open(os.path.join(FAKEQ, "env." + n), "rb") as f:
            envl = f.read().decode().split("\n")
        with open(os.path.join(FAKEQ, "dsn." + n), "rb") as f:
            dsn = f.read().decode()
        out.append((msg, envl, dsn))
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    return out


def body(msg):
    """the message without the Received: line smtp-recv added"""
    if not msg.startswith(b"Received:"):
        return msg
    i = 0
    while True:
        i = msg.index(b"\n", i) + 1
        if msg[i:i + 1] != b"\t":
            return msg[i:]


MAIL = b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\n"

# greeting, EHLO keywords
out, err, rc = run(b"EHLO client.example\r\nQUIT\r\n")
r = smtp_replies(out)
t.eq(r[0], (220, ["mx.example.test ESMTP pipemail"]), "greeting names conf me")
kw = r[1][1][1:]
for k in ("PIPELINING", "SIZE 26214400", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"):
    t.ok(k in kw, "EHLO advertises " + k)
t.ok(not any(k.startswith("STARTTLS") for k in kw), "no STARTTLS without SSLCTLFD")
t.ok(not any(k.startswith("AUTH") for k in kw), "no AUTH in plaintext by default")
t.eq(r[2], (221, ["2.0.0 Bye"]), "QUIT")
t.eq(rc, 0, "exit 0 after QUIT")
t.ok("event=session" in err and "end=quit" in err, "session log line")
out, _, _ = run(b"EHLO x\r\nQUIT\r\n", ["-P"])
t.ok("AUTH PLAIN LOGIN" in smtp_replies(out)[1][1], "-P offers AUTH in plaintext")
out, _, _ = run(b"EHLO x\r\nQUIT\r\n", ["-s", "1000", "-h", "other.test"])
r = smtp_replies(out)
t.ok(r[0][1][0].startswith("other.test ") and "SIZE 1000" in r[1][1], "-h and -s")

# simple commands, one per line and pipelined: the same replies
cmds = (b"HELO client.example\r\nNOOP\r\nRSET\r\nVRFY u\r\nHELP\r\nEXPN list\r\nFOO\r\n\r\nrset x\r\nQUIT\r\n")
out, _, _ = run(cmds)
t.eq(smtp_codes(out), [220, 250, 250, 250, 252, 214, 502, 500, 500, 501, 221], "HELO NOOP RSET VRFY HELP EXPN unknown")
import re
t.ok(all(re.match(r"[245]\.\d{1,3}\.\d{1,3} ", l) for c, ls in smtp_replies(out)[2:] for l in ls), "enhanced status code on every reply")

# a whole transaction, checked byte for byte
out, err, _ = run(MAIL + b"RCPT TO:<sales@example.test>\r\nDATA\r\nSubject: t\r\n\r\nline 1\r\n..dotted\r\n.x\r\n\r\n.\r\nQUIT\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 354, 250, 221], "MAIL RCPT RCPT DATA pipelined")
q = queued()
t.eq(len(q), 1, "one message queued")
msg, envl, dsn = q[0]
t.eq(envl, ["Fs@sender.test", "Tu@example.test", "Tsales@example.test", "", ""], "envelope F, T, T")
t.eq(body(msg), b"Subject: t\n\nline 1\n.dotted\nx\n\n", "dot-unstuffed, CRLF to LF")
t.ok(msg.startswith(b"Received: from client.example (client.example [192.0.2.7])\n\tby mx.example.test (pipemail) with ESMTP;"), "Received line", msg[:200])
t.eq(dsn, "\n\n\n", "empty PIPEMAIL_DSN lines")
t.ok("event=message" in err and "rcpt=sales@example.test" in err and "result=queued" in err, "message log line")

# one recipient: Received says for <>
out, _, _ = run(MAIL + b"DATA\r\n\r\nx\r\n.\r\n")
msg = queued()[0][0]
t.ok(b"\n\tfor <u@example.test>; " in msg.split(b"\n\n")[0], "Received for <rcpt> with one recipient")

# HELO and host name reach the header only in a safe form (THREATS I8)
out, err, _ = run(b"EHLO x(y)\\z[1]\xff\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n\r\nx\r\n.\r\n",
                  extra={"TCPREMOTEHOST": "evil\r\nX-Injected: 1"})
msg = queued()[0][0]
t.ok(msg.startswith(b"Received: from x?y??z?1?? (evil??X-Injected:?1 [192.0.2.7])\n"), "HELO and remote host made header-safe", msg[:120])
t.ok("helo=\"x(y)\\x5cz[1]\\xff\"" in err or "helo=" in err and "\r" not in err.split("event=message")[1].split("\n")[0], "HELO escaped in the log")

# second transaction in a session, RSET in between
out, _, _ = run(MAIL + b"RSET\r\nMAIL FROM:<>\r\nRCPT TO:<U@Example.Test>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\ny\r\n.\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 250, 250, 354, 250, 250, 250, 354, 250], "RSET then two transactions")
q = queued()
t.eq(sorted(x[1][0] for x in q), ["F", "Fa@b.test"], "null sender and a second sender")

# sequence errors
# (a refused DATA is the last command sent: anything after it would end
# the session, test 133)
out, _, _ = run(b"MAIL FROM:<a@b.test>\r\nEHLO x\r\nRCPT TO:<u@example.test>\r\nDATA\r\n")
out2, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\nDATA\r\n")
t.eq(smtp_codes(out) + smtp_codes(out2)[2:], [220, 503, 250, 503, 503, 250, 503, 554], "MAIL before EHLO, RCPT before MAIL, nested MAIL, DATA without RCPT")

# syntax errors
out, _, _ = run(b"EHLO\r\nEHLO a\x01b\r\nEHLO x\r\nMAIL <a@b.test>\r\nMAIL FROM:a@b.test\r\nMAIL FROM:<a@b@c.test>\r\nMAIL FROM:<a@b.test> FOO=1\r\nMAIL FROM:<a@b.test> SIZE=x\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\nMAIL FROM: <a@b.test>\r\nRCPT <u@example.test>\r\nRCPT TO:<u@example.test> NOTIFY=SOMETIMES\r\nBDAT 1 NOW\r\nxBDAT\r\n")
out2, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nDATA x\r\n")
t.eq(smtp_codes(out) + smtp_codes(out2)[-1:], [220, 501, 501, 250, 501, 501, 501, 555, 501, 555, 250, 501, 501, 501, 501, 421, 501], "syntax errors")

# SIZE
out, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test> SIZE=1001\r\nMAIL FROM:<a@b.test> SIZE=1000\r\nRCPT TO:<u@example.test>\r\nDATA\r\n" + b"x" * 500 + b"\r\n" + b"y" * 600 + b"\r\n.\r\nNOOP\r\n", ["-s", "1000"])
t.eq(smtp_codes(out), [220, 250, 552, 250, 250, 354, 552, 250], "SIZE at MAIL and counted while streaming")
t.eq(queued(), [], "oversized message not queued")
out, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n", extra={"DATABYTES": "77"})
t.ok("SIZE 77" in smtp_replies(out)[1][1], "DATABYTES overrides the size")

# 8-bit body and SMTPUTF8 addresses
u8 = "jörg@bücher.test".encode()
out, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<" + u8 + b">\r\nMAIL FROM:<" + "grüß@b.test".encode() + b">\r\nRSET\r\nMAIL FROM:<" + "grüß@b.test".encode() + b"> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<" + u8 + b">\r\nDATA\r\nSubject: caf\xc3\xa9\r\n\r\n\xff\xfe 8bit\r\n.\r\n", extra={"RELAYCLIENT": ""})
t.eq(smtp_codes(out), [220, 250, 250, 553, 503, 250, 250, 250, 354, 250], "UTF-8 addresses need SMTPUTF8")
q = queued()
t.eq(q[0][1][:2], ["Fgrüß@b.test", "Tjörg@bücher.test"], "UTF-8 envelope")
t.ok(b"with UTF8SMTP\n" in q[0][0] and body(q[0][0]).endswith(b"\xff\xfe 8bit\n"), "8-bit body intact, UTF8SMTP")

# DSN parameters into PIPEMAIL_DSN
out, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test> RET=HDRS ENVID=QQ+2B1\r\nRCPT TO:<u@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;u+40example.test\r\nRCPT TO:<sales@example.test>\r\nRCPT TO:<U@example.test> NOTIFY=NEVER\r\nDATA\r\nx\r\n.\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 250, 354, 250], "DSN parameters accepted")
t.eq(queued()[0][2], "RET=HDRS ENVID=QQ+2B1\nNOTIFY=FAILURE,DELAY ORCPT=rfc822;u+40example.test\n\nNOTIFY=NEVER\n", "PIPEMAIL_DSN: one line per recipient")

# BDAT
out, _, _ = run(MAIL + b"BDAT 10\r\nSubject: xBDAT 9 LAST\r\n\r\nhi\r\n.\r\nNOOP\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 250, 250], "BDAT chunks pipelined")
q = queued()
t.eq(body(q[0][0]), b"Subject: x\nhi\n.\n", "BDAT content raw: no dot handling")
out, _, _ = run(MAIL + b"BDAT 0 LAST\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250], "BDAT 0 LAST")
queued()
out, _, _ = run(b"EHLO x\r\nBDAT 6\r\nab\r\n\r\nNOOP\r\n" + MAIL[21:] + b"BDAT 3\r\nx\r\nDATA\r\n")
out2, _, _ = run(MAIL + b"BDAT 3\r\nx\r\nRSET\r\nBDAT 1 LAST\r\ny")
t.eq(smtp_codes(out) + smtp_codes(out2)[-2:-1], [220, 250, 503, 250, 250, 250, 250, 503, 250], "BDAT without MAIL eats its chunk; DATA after BDAT refused")
t.eq(smtp_codes(out2)[-1], 503, "no BDAT after RSET")
t.eq(queued(), [], "RSET drops a BDAT transaction")
out, _, _ = run(MAIL + b"BDAT 5\r\na\nb\r\nBDAT 3 LAST\r\nc\r\nNOOP\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 554, 503, 250], "bare LF in BDAT refused at its chunk")
# a refused chunk fails its transaction: later chunks never complete a
# message with a hole in it
out, _, _ = run(MAIL + b"BDAT 3\r\nabcBDAT 3 NOW\r\ndefBDAT 3 LAST\r\nghiNOOP\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 501, 503, 250], "BDAT: a refused chunk ends the transaction")
t.eq(queued(), [], "BDAT: nothing queued after a refused chunk")
out, _, _ = run(MAIL + b"BDAT 3\r\nabcBDAT 3 LAST\r\nghi", extra={"QMAILQUEUE": "/nonexistent/queue"})
t.eq(smtp_codes(out), [220, 250, 250, 250, 451, 503], "BDAT: queue program failing to start ends the transaction")
out, _, _ = run(MAIL + b"BDAT 2 LAST\r\na\r", ["-s", "100"])
t.eq(smtp_codes(out)[-1], 554, "BDAT ending in a lone CR refused")
out, _, _ = run(MAIL + b"BDAT 200 LAST\r\n" + b"a" * 198 + b"\r\n", ["-s", "100"])
t.eq(smtp_codes(out)[-1], 552, "BDAT over SIZE refused")
t.eq(queued(), [], "nothing queued from refused BDAT")

# queue program exit codes
for code, want in ((31, 554), (11, 554), (53, 452), (71, 451), (61, 451)):
    out, err, _ = run(MAIL + b"DATA\r\nx\r\n.\r\nNOOP\r\n", extra={"FAKEQ_EXIT": str(code)})
    t.eq(smtp_codes(out)[-2:], [want, 250], "queue program exit %d -> %d" % (code, want))
    if code in (31, 11):
        ecode = out.split(b"\r\n")[-3].split(b" ")[1]
        t.eq(ecode, b"5.7.1" if code == 31 else b"5.3.0", "queue program exit %d -> enhanced code %s" % (code, ecode.decode()))
out, err, _ = run(MAIL + b"DATA\r\n" + b"x" * 100 + b"\r\n" * 20000 + b".\r\nNOOP\r\n", extra={"FAKEQ_KILL": "10"})
t.eq(smtp_codes(out)[-2:], [451, 250], "queue program killed mid-write -> 451, session goes on")
t.eq(queued(), [], "nothing queued from the killed queue program")
out, _, _ = run(MAIL + b"DATA\r\n", extra={"QMAILQUEUE": "/nonexistent/queue"})
t.eq(smtp_codes(out)[-2:], [250, 451], "missing queue program -> 451 to DATA, no 354")

# limits: line length, recipients, errors, hops
out, _, _ = run(b"EHLO x\r\nNOOP " + b"a" * 993 + b"\r\nNOOP " + b"a" * 994 + b"\r\nNOOP\r\n")
t.eq(smtp_codes(out), [220, 250, 250, 500, 250], "command line capped at 1000 bytes with CRLF")
out, _, _ = run(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n" + b"RCPT TO:<u@example.test>\r\n" * 4, ["-n", "3"])
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 250, 452], "recipient cap (-n) -> 452 4.5.3")
out, err, rc = run(b"EHLO x\r\n" + b"FOO\r\n" * 10, ["-e", "3"])
t.eq(smtp_codes(out), [220, 250, 500, 500, 500, 421], "error cap then 421 and disconnect")
t.ok("end=errors" in err, "error cap logged")
hops = b"".join(b"Received: from h%d\r\n" % i for i in range(99))
out, _, _ = run(MAIL + b"DATA\r\n" + hops + b"Subject: x\r\n\r\nb\r\n.\r\n")
t.eq(smtp_codes(out)[-1], 250, "99 Received lines accepted")
queued()
out, _, _ = run(MAIL + b"DATA\r\n" + hops + b"Delivered-To: u@example.test\r\n\r\nb\r\n.\r\n")
r = smtp_replies(out)[-1]
t.eq((r[0], r[1][0][:5]), (554, "5.4.6"), "100 Received/Delivered-To lines -> 554 5.4.6")
out, _, _ = run(MAIL + b"DATA\r\nSubject: x\r\n\r\n" + b"Received: x\r\n" * 150 + b".\r\n")
t.eq(smtp_codes(out)[-1], 250, "Received: in the body is not a hop")
queued()
out, _, _ = run(MAIL + b"DATA\r\n" + b"a" * 999 + b"\r\n.\r\n")
t.eq(smtp_codes(out)[-1], 554, "data line over 1000 bytes refused")
t.eq(queued(), [], "nothing queued")

# bare LF / CR in commands
out, _, _ = run(b"NOOP\r\nNOOP\rNOOP\r\nMAIL FROM:<a@b.test>\x00\r\nQUIT\r\n")
t.eq(smtp_codes(out), [220, 250, 500, 500, 221], "bare CR, NUL in commands refused")
out, _, _ = run(b"EHLO x\nNOOP\r\nQUIT\r\n")
t.eq(smtp_codes(out), [220, 500, 421], "bare LF in a command: refused, connection closed")

# timeouts
out, err, _ = run(b"EHLO x\r\nNOOP", ["-t", "1"])
t.ok(smtp_codes(out) == [220, 250], "partial command at EOF: no reply")
import subprocess, threading, time


def stalled(p):
    """read until the server closes, stdin kept open; killed after 15 s"""
    w = threading.Timer(15, p.kill)
    w.start()
    o = p.stdout.read()
    e = p.stderr.read()
    w.cancel()
    p.stdin.close()
    p.wait()
    return o, e


p = subprocess.Popen([pmtest.bin("smtp-recv"), "-t", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env.env, **QENV))
p.stdin.write(b"EHLO x\r\nNO")
p.stdin.flush()
t0 = time.monotonic()
o, e = stalled(p)
t.eq(smtp_codes(o)[-1], 421, "idle client -> 421 4.4.2 after -t")
t.ok(time.monotonic() - t0 < 10 and b"end=timeout" in e, "timeout logged")
p = subprocess.Popen([pmtest.bin("smtp-recv"), "-d", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env.env, **QENV))
p.stdin.write(MAIL + b"DATA\r\nsome")
p.stdin.flush()
o, e = stalled(p)
t.eq(smtp_codes(o)[-1], 421, "stalled DATA -> 421")
t.eq(queued(), [], "nothing queued from a stalled DATA")

# a client that vanishes mid-DATA
out, err, _ = run(MAIL + b"DATA\r\nhalf a message")
t.eq(queued(), [], "EOF in DATA: nothing queued")
t.ok("result=aborted" in err, "aborted message logged")

t.done()
