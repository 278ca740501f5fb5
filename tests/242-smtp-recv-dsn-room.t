#!/usr/bin/python3
# smtp-recv: recipients whose DSN parameters (PIPEMAIL_DSN) would pass what
# the queue takes get 452 4.5.3 at RCPT and go in another transaction.
# Before, every RCPT got 250 and the message a 451 for ever: an environment
# string past 128 KiB for a queue program, past QUEUE_DSN_MAX in process.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
ORCPT = b"rfc822;" + b"x" * 440 + b"@example.test"   # 500 bytes of DSN per recipient


def session(n, extra, message=b""):
    cmds = b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n"
    cmds += b"".join(b"RCPT TO:<u+%d@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=%s\r\n" % (i, ORCPT)
                     for i in range(n))
    e = {"TCPREMOTEIP": "192.0.2.7"}
    e.update(extra)
    r = env.run(["smtp-recv", "-n", str(n)], input=cmds + b"DATA\r\n" + message, env=e, check=False)
    codes = smtp_codes(r.stdout)[3:]
    return codes[:n], codes[n:], r.stderr.decode(errors="replace")[-400:]


for name, extra in (("queue program", {"QMAILQUEUE": pmtest.bin("queue-add")}), ("in process", {})):
    rcpts, rest, err = session(300, extra)
    ok, over = rcpts.count(250), rcpts.count(452)
    t.eq(ok + over, 300, "%s: each of 300 RCPTs gets 250 or 452" % name)
    t.ok(200 <= ok < 300 and rcpts[ok:] == [452] * over,
         "%s: 452 once the DSN text is full, for every RCPT after" % name, rcpts)
    t.ok(rest == [354], "%s: DATA then starts the message" % name, err)
    rcpts, rest, err = session(300, extra, b"Subject: many\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    t.ok(rest == [354, 250, 221], "%s: the message for the recipients that fit is queued" % name, err)

t.done()
