#!/usr/bin/python3
# smtp-recv: junk commands (NOOP, RSET, VRFY, EXPN, HELP, and EHLO/HELO
# after the first) are capped per session by -j (default 100, Postfix's
# smtpd_junk_command_limit); past it, 421 4.7.0 and the close. An accepted
# message starts the count again. Before, one client could hold a
# tcpserver slot for ever with a NOOP every -t seconds.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, smtp_replies

HOST = "mx.junk.test"
t, env = pmtest.TAP(), pmtest.Env()
env.add_user("u@example.test", "pw")


def run(data, args=()):
    """smtp-recv over pipes, queueing in process: (replies, log, exit code)"""
    r = env.run(["smtp-recv", "-h", HOST, *args], input=data, env={"TCPREMOTEIP": "192.0.2.7"}, check=False)
    return r.stdout, r.stderr.decode(errors="replace"), r.returncode


MSG = b"MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"


out, err, _ = run(b"EHLO x\r\n" + b"NOOP\r\n" * 101 + b"QUIT\r\n")
codes = smtp_codes(out)
t.eq(codes, [220, 250] + [250] * 100 + [421], "default: 100 NOOPs answered, the 101st gets 421")
t.ok(smtp_replies(out)[-1][1][-1].startswith("4.7.0 " + HOST + " Too many commands"), "421 4.7.0 host Too many commands",
     smtp_replies(out)[-1])
t.ok("end=junk" in err, "end=junk logged", err[-300:])

for verb, ok in ((b"NOOP", 250), (b"RSET", 250), (b"VRFY u", 252), (b"EXPN u", 502), (b"HELP", 214),
                 (b"EHLO y", 250), (b"HELO y", 250)):
    out, _, _ = run(b"EHLO x\r\n" + (verb + b"\r\n") * 3 + b"QUIT\r\n", ["-j", "2"])
    t.eq(smtp_codes(out), [220, 250, ok, ok, 421], "-j 2: %s counts" % verb.decode())

out, _, _ = run(b"HELO x\r\nNOOP\r\nQUIT\r\n", ["-j", "1"])
t.eq(smtp_codes(out), [220, 250, 250, 221], "the first HELO is no junk")
out, _, _ = run(b"EHLO x\r\nNOOP\r\nNOOP\r\n" + MSG + b"NOOP\r\nNOOP\r\n" + MSG + b"RSET\r\nQUIT\r\n", ["-j", "2"])
t.eq(smtp_codes(out), [220, 250, 250, 250] + [250, 250, 354, 250] + [250, 250] + [250, 250, 354, 250] + [250, 221],
     "an accepted message starts the count again")
out, _, _ = run(b"EHLO x\r\nNOOP\r\nNOOP\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nRSET\r\nQUIT\r\n",
                ["-j", "2"])
t.eq(smtp_codes(out), [220, 250, 250, 250, 250, 250, 421], "a transaction with no message does not")
out, _, _ = run(b"EHLO x\r\n" + b"MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\n" * 3 + b"QUIT\r\n", ["-j", "1"])
t.eq(smtp_codes(out).count(421), 0, "MAIL and RCPT are no junk")

for bad in ("0", "x", "100001"):
    _, _, rc = run(b"", ["-j", bad])
    t.eq(rc, 100, "-j %s: usage error" % bad)
t.done()
