#!/usr/bin/python3
# smtp-recv -e counts error replies "without delivering mail", as
# Postfix's smtpd_hard_error_limit does: an accepted message (250 after
# DATA or BDAT LAST) starts the count again. Before, the count never
# reset, so a long batch session with 20 unknown recipients in all was
# cut with 421. A refused message resets nothing; the session log still
# gives the session's errors in all.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

HOST = "mx.errors.test"
t, env = pmtest.TAP(), pmtest.Env()
env.add_user("u@example.test", "pw")


def run(data, args=()):
    r = env.run(["smtp-recv", "-h", HOST, "-e", "3", *args], input=data, env={"TCPREMOTEIP": "192.0.2.7"},
                check=False)
    return smtp_codes(r.stdout), r.stderr.decode(errors="replace")


def bad(n):
    return b"".join(b"RCPT TO:<nobody%d@example.test>\r\n" % i for i in range(n))


MAIL = b"MAIL FROM:<a@b.test>\r\n"
GOOD = b"RCPT TO:<u@example.test>\r\n"
BODY = b"Subject: x\r\n\r\nhi\r\n"

codes, err = run(b"EHLO x\r\n" + MAIL + bad(2) + GOOD + b"DATA\r\n" + BODY + b".\r\n" +
                 MAIL + bad(2) + GOOD + b"RSET\r\nQUIT\r\n")
t.eq(codes, [220, 250, 250, 550, 550, 250, 354, 250, 250, 550, 550, 250, 250, 221],
     "-e 3: 2 errors, a message queued, 2 more errors: the session stays open")
m = re.search(r"event=session .*", err)
t.ok(m and " errors=4 " in m.group(0) + " ", "the session log counts all 4 errors", m and m.group(0))

BDAT = b"BDAT %d LAST\r\n" % len(BODY) + BODY
codes, _ = run(b"EHLO x\r\n" + MAIL + bad(2) + GOOD + BDAT + MAIL + bad(2) + GOOD + b"RSET\r\nQUIT\r\n")
t.eq(codes, [220, 250, 250, 550, 550, 250, 250, 250, 550, 550, 250, 250, 221],
     "-e 3: a message by BDAT LAST starts the count again too")

codes, err = run(b"EHLO x\r\n" + MAIL + bad(3) + b"QUIT\r\n")
t.eq(codes, [220, 250, 250, 550, 550, 550, 421], "-e 3: 3 errors with no message: 421")
t.ok("end=errors" in err, "end=errors logged", err[-300:])

codes, _ = run(b"EHLO x\r\n" + MAIL + bad(1) + GOOD + b"DATA\r\n" + b"x" * 200 + b"\r\n.\r\n" + bad(1) + b"QUIT\r\n",
               ["-s", "100"])
t.eq(codes, [220, 250, 250, 550, 250, 354, 552, 503, 421],
     "a refused message (552, an error) resets nothing: the next error (503) is the third")

codes, _ = run(b"EHLO x\r\n" + MAIL + bad(2) + GOOD + b"BDAT 5\r\nSubje" + b"RSET\r\n" + MAIL + bad(1) + b"QUIT\r\n")
t.eq(codes, [220, 250, 250, 550, 550, 250, 250, 250, 250, 550, 421], "a chunk without LAST resets nothing")
t.done()
