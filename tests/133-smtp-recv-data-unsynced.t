#!/usr/bin/python3
# smtp-recv: a message sent with DATA, without waiting for the 354 (RFC
# 2920 3.1: DATA ends a command group), is never read as commands when
# DATA is refused. Its lines were taken for commands: a body holding
# "RCPT TO:<u@local>", "DATA" and a message got that message queued,
# inside the transaction the client had opened (a relay client's rights,
# a web form's text). Now bytes already sent after a refused DATA end the
# session with 421; a client that waits for the reply keeps its session.
import os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, queue_files

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
port = env.server(["smtp-recv"], env={"QMAILQUEUE": ""})

SMUGGLE = (b"Subject: hello\r\n\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n.\r\nQUIT\r\n")
EHLO = b"EHLO c\r\n"

cases = [
    ("no valid recipient", b"MAIL FROM:<s@x.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n", [250, 550, 554]),
    ("no MAIL", b"DATA\r\n", [503]),
    ("DATA with an argument", b"MAIL FROM:<s@x.test>\r\nDATA x\r\n", [250, 501]),
]
for name, head, want in cases:
    out = pmtest.smtp_raw(port, [EHLO + head + SMUGGLE])
    t.eq(smtp_codes(out)[2:], want + [421], name + ": the refusal, then 421 and the end")
    t.ok(b"354" not in out and b"Ok: queued" not in out, name + ": no line of the message taken for a command")
    t.eq(queue_files(env), [], name + ": nothing queued")
    t.ok(b"sent before" in out, name + ": the 421 says why", out[-200:])

# a client that waits for the refusal goes on in the same session
s = socket.create_connection(("127.0.0.1", port), timeout=10)
L = pmtest.Lines(s)
L.reply()
L.cmd("EHLO c")
t.eq([L.cmd(c)[0][:3] for c in ("MAIL FROM:<s@x.test>", "RCPT TO:<nobody@example.test>", "DATA")],
     ["250", "550", "554"], "a client waiting for replies: DATA refused")
t.eq([L.cmd(c)[0][:3] for c in ("RCPT TO:<u@example.test>", "DATA")], ["250", "354"], "and the session goes on")
L.send(b"Subject: fine\r\n\r\nx\r\n.\r\n")
t.eq(L.reply()[0][:3], "250", "its message queued")
L.cmd("QUIT")
s.close()
t.eq(len(queue_files(env)), 1, "one message in the queue")

# pipelining that waits for 354 as RFC 2920 asks is untouched
out = pmtest.smtp_raw(port, [EHLO + b"MAIL FROM:<s@x.test>\r\nRCPT TO:<nobody@example.test>\r\n"
                             b"RCPT TO:<u@example.test>\r\nDATA\r\n"])
t.eq(smtp_codes(out)[2:], [250, 550, 250, 354], "MAIL, RCPT, RCPT, DATA in one write: 354 with one recipient")
t.done()
