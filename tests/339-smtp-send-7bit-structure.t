#!/usr/bin/python3
"""smtp-send's 7-bit conversion keeps the MIME structure the peer reads.
On the wire a lone CR is a line end (dotstuff.h), so a
delimiter or a header field after one is one for the peer. The
conversion read such lines as one: a part started by a delimiter after a
lone CR had its 8-bit text encoded as part of the one before, without
the Content-Transfer-Encoding field, and the reader showed "=C3=A9"; a
Content-Type field after a lone CR was not seen, and a second one was
added. And a quoted-printable soft break just before a "--boundary" at
a long line's end made that tail a delimiter line: the part ended
there. Now the conversion reads lines as the peer does, and a "-"
after a soft break is encoded: the peer reads each part's fields and
text as written."""
import email, email.policy, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
peer = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 10000000"]})   # no 8BITMIME: the message is converted
open(os.path.join(env.conf, "routes"), "w").write("seven.test:[127.0.0.1]:%d tls=no\n" % peer.port)
utf8 = "text/plain; charset=utf-8"
cases = [
    ("a delimiter after a lone CR",
     b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
     b"--q\r\n\r\nx\r--q\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9\r\n--q--\r\n",
     [(None, b"x"), ([utf8], b"caf\xc3\xa9")]),
    ("a header field after a lone CR",
     b"Subject: x\rMIME-Version: 1.0\rContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9\r\n",
     [([utf8], b"caf\xc3\xa9\r\n")]),
    # "caf=C3=A9" and 66 x fill a quoted-printable line: a soft break falls before "--q"
    ("a boundary at a long line's end",
     b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
     b"--q\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9" + b"x" * 66 + b"--q\r\n--q--\r\n",
     [([utf8], b"caf\xc3\xa9" + b"x" * 66 + b"--q")]),
]
for name, msg, want in cases:
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "10", "seven.test", "x@seven.test"],
                       input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    t.eq(r.returncode, 0, name + ": delivered")
    wire = peer.sessions[-1]["data"][-1] if peer.sessions and peer.sessions[-1]["data"] else b""
    t.ok(wire and all(c < 0x80 for c in wire) and b"conv=7bit" in r.stderr, name + ": converted to 7-bit",
         wire + r.stderr)
    m = email.message_from_bytes(wire, policy=email.policy.compat32)
    t.eq(m.get_all("MIME-Version"), ["1.0"], name + ": one MIME-Version field")
    t.eq([(p.get_all("Content-Type"), p.get_payload(decode=True)) for p in m.walk() if not p.is_multipart()], want,
         name + ": each part's Content-Type fields and decoded text as written")
peer.close()
t.done()
