#!/usr/bin/python3
"""smtp-send and a lone CR in the body (RFC 5322 2.3: CR only in CRLF).
Sent as it is (a peer with 8BITMIME, or a 7-bit message), it becomes a
line end: no bare CR reaches the wire (THREATS.md I5). Made 7-bit for a
peer without 8BITMIME, it went as "=0D" in the quoted-printable text, so
the reader got a lone CR back where the other path gave a line break:
one message, two texts. Now it is a line end there too, in every
position (mid-line, before a CRLF, at the end, after a blank); a part
already base64, or one labelled binary and encoded so, keeps its bytes."""
import email, email.policy, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
p7 = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 10000000"]})
p8 = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SIZE 10000000"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("seven.test:[127.0.0.1]:%d tls=no\n" % p7.port)
    f.write("eight.test:[127.0.0.1]:%d tls=no\n" % p8.port)


def send(msg, domain):
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "10", domain, "x@" + domain],
                       input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    peer = p7 if domain == "seven.test" else p8
    wire = peer.sessions[-1]["data"][-1] if peer.sessions and peer.sessions[-1]["data"] else b""
    return r.returncode, b"".join(l[1:] if l.startswith(b".") else l for l in wire.splitlines(True))


def body(wire):
    m = email.message_from_bytes(wire, policy=email.policy.compat32)
    return [part.get_payload(decode=True) for part in m.walk() if not part.is_multipart()]


text = "caf\u00e9\rmid\r\r\nblank \rend\r".encode()
msgs = {
    "a text part": b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text,
    "no MIME header": b"Subject: x\r\n\r\n" + text,
    "in a multipart": b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
                      b"--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                      + text + b"\r\n--q--\r\n",
}
for name, msg in msgs.items():
    rc8, w8 = send(msg, "eight.test")
    rc7, w7 = send(msg, "seven.test")
    t.eq((rc8, rc7), (0, 0), name + ": delivered to both peers")
    t.ok(b"\r" not in w8.replace(b"\r\n", b""), name + ": 8-bit path: no lone CR on the wire", w8)
    t.ok(all(c < 0x80 for c in w7) and b"=0D" not in w7, name + ": 7-bit path: 7-bit, no =0D", w7)
    b8, b7 = body(w8), body(w7)
    t.eq(b7, b8, name + ": both paths read the same decoded")
    t.ok(b8 and b8[0].startswith("caf\u00e9\r\nmid\r\n\r\nblank".encode()), name + ": the lone CRs line ends", b8)

# a binary part goes as base64: every byte kept, a CR too
binmsg = (b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
          b"--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
          b"\xff\rz\r\n--q--\r\n")
rc, w7 = send(binmsg, "seven.test")
t.eq((rc, body(w7)), (0, [b"\xff\rz"]), "a binary part as base64: its lone CR kept")
p7.close(), p8.close()
t.done()
