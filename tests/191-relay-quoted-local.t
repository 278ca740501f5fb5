#!/usr/bin/python3
# End to end for a relay client: smtp-recv takes RCPT TO:<"a b"@remote.test>
# (a quoted local part, RFC 5321 4.1.2) and a quoted sender with 250, and
# queue-run's smtp-send delivers them to the remote peer with the same
# bytes, instead of bouncing them 5.1.3 as it did. A quoted local part for
# a local domain stays refused by smtp-recv (550 5.1.3).
import os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
for c in ("smtp-recv", "smtp-send", "queue-add", "queue-run"):
    if not os.path.exists(pmtest.bin(c)):
        t.skip_all(c + " not built")
env = pmtest.Env()
env.add_user("sender@example.test", "pw")
p = SMTPPeer({})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % p.port)
port = env.server(["smtp-recv"], env={"RELAYCLIENT": ""})

s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b'EHLO x\r\nMAIL FROM:<"s s"@example.test>\r\nRCPT TO:<"a b"@remote.test>\r\n'
          b'RCPT TO:<"q\\"r"@remote.test>\r\nRCPT TO:<"l m"@example.test>\r\nDATA\r\n')


def read_until(pat, out):
    for _ in range(200):   # bounded; each recv has the socket's timeout
        if pat in out:
            break
        b = s.recv(4096)
        if not b:
            break
        out += b
    return out


out = read_until(b"\r\n354 ", b"")
s.sendall(b"Subject: quoted\r\n\r\nbody\r\n.\r\nQUIT\r\n")
out = read_until(b"\r\n221 ", out)
s.close()
t.eq(smtp_codes(out)[2:], [250, 250, 250, 550, 354, 250, 221],
     "smtp-recv: the quoted sender and remote recipients taken, the local one refused")
t.ok(b"550 5.1.3" in out, "... that one 5.1.3")

qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "30"],
               stderr=open(env.path("queue-run.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env), 20), "queue empty")
cmds = [c.split(b" SIZE=")[0].split(b" BODY=")[0] for s_ in p.sessions for c in s_["cmds"] if c[:4] in (b"MAIL", b"RCPT")]
t.eq(cmds, [b'MAIL FROM:<"s s"@example.test>', b'RCPT TO:<"a b"@remote.test>', b'RCPT TO:<"q\\"r"@remote.test>'],
     "the peer got the quoted sender and recipients, byte for byte")
t.eq(sum(len(s_["data"]) for s_ in p.sessions), 1, "one delivery")
p.close()
t.done()
