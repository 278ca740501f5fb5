#!/usr/bin/python3
"""smtp-send and a peer without 8BITMIME: an 8-bit message is made 7-bit
MIME (RFC 6152 3, RFC 1652: "convert ... or return it"), as Postfix does
by default, where it failed every recipient permanently (5.6.3). Leaf
bodies with 8-bit bytes go quoted-printable (a "binary" one base64),
multipart and message/rfc822 entities are entered, never encoded, their
own 8bit label made 7bit; header fields and every other byte stay as they
are. The decoded bodies equal the original's, every line is 7-bit and at
most 998 bytes, SIZE= counts the converted message, the log says
conv=7bit; stdin and -B (a file) alike. A message whose 8-bit bytes lie
where no encoding may go (a preamble) still fails, 5.6.3."""
import email, email.policy, os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
p = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 10000000"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.org:[127.0.0.1]:%d tls=no\n" % p.port)


def send(msg, how):
    """smtp-send with the message on stdin, or as -B names it in a file"""
    args, data = ["-f", "a@b.test", "-w", "10", "example.org", "x@example.org"], msg
    if how == "-B":
        path = env.path("m")
        with open(path, "wb") as f:
            f.write(b"ENVELOPE" + msg + b"TRAILER")
        args = ["-B", "-w", "10"]
        data = ("%s:8:%d example.org a@b.test x@example.org\n" % (path, len(msg))).encode()
    r = subprocess.run([pmtest.bin("smtp-send")] + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace").split(" ", 4), r.stderr.decode(errors="replace")


def unstuff(wire):
    return b"".join(l[1:] if l.startswith(b".") else l for l in wire.splitlines(True))


def parse(b):
    return email.message_from_bytes(b.replace(b"\r\n", b"\n"), policy=email.policy.compat32)


def same_but_encoding(orig, got):
    """the trees match: each entity's fields (Content-Transfer-Encoding
    and MIME-Version aside, and the Content-Type added to converted text
    that had none) as they were, each leaf's decoded body equal,
    a leaf without 8-bit bytes byte for byte, preambles and epilogues
    kept. A list of differences."""
    diffs = []
    skip = ("content-transfer-encoding", "mime-version")
    def walk(a, b, where):
        fa = [(k, v) for k, v in a.items() if k.lower() not in skip]
        fb = [(k, v) for k, v in b.items() if k.lower() not in skip and
              not (k.lower() == "content-type" and "content-type" not in a and
                   v == "text/plain; charset=unknown-8bit")]
        if fa != fb:
            diffs.append((where, "fields", fa, fb))
        if a.preamble != b.preamble or a.epilogue != b.epilogue:
            diffs.append((where, "preamble/epilogue"))
        if a.is_multipart() != b.is_multipart():
            diffs.append((where, "structure"))
        elif a.is_multipart():
            pa, pb = a.get_payload(), b.get_payload()
            if len(pa) != len(pb):
                diffs.append((where, "number of parts"))
            for i, (x, y) in enumerate(zip(pa, pb)):
                walk(x, y, where + "/%d" % i)
        else:
            da, db = a.get_payload(decode=True), b.get_payload(decode=True)
            if da != db:
                diffs.append((where, "decoded body", da[:200], db[:200]))
            raw = a.get_payload()
            if not any(ord(c) > 127 for c in raw) and raw != b.get_payload():
                diffs.append((where, "7-bit body changed"))
    walk(orig, got, "")
    return diffs


html = "<p>Gr\u00fc\u00dfe, \u00e9t\u00e9 \u2014 \u00e0 bient\u00f4t</p>\n".encode()
attach = b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\nYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n"
msgs = {
    "(a) a plain 8-bit text message, no MIME header":
        "From: a@b.test\nTo: x@example.org\nSubject: plain\n\nGr\u00fc\u00dfe aus K\u00f6ln\n.\nFrom here\n"
        "a = b\nend\n".encode(),
    "(b) multipart/alternative in multipart/mixed, 8-bit text and html, a base64 attachment":
        b"From: a@b.test\r\nSubject: multi\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"outer=1\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"This is a MIME message.\r\n--outer=1\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
        b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Gr\u00fc\u00dfe \u2014 caf\u00e9\r\n".encode() +
        b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.replace(b"\n", b"\r\n") +
        b"--inner--\r\n--outer=1\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=x.png\r\n\r\n" + attach.replace(b"\n", b"\r\n") +
        b"--outer=1--\r\nepilogue\r\n",
    "(c) message/rfc822 with an 8-bit message inside":
        b"From: a@b.test\nSubject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nsee below\n--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
        b"From: c@d.test\nSubject: inner\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n\n"
        b"\xe9t\xe9 \xe0 Paris\n--b--\n",
    "(d) a 3000-byte line and trailing blanks":
        b"From: a@b.test\nSubject: long\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + "\u00e9".encode() * 1500 + b"\ntrailing blanks \t \n"
        + "and \u00fc  \n".encode() + b".\n..\n",
}
got = {}
for name, msg in msgs.items():
    for how in ("stdin", "-B"):
        rc, out, err = send(msg, how)
        t.eq((rc, out[0]), (0, "ok"), "%s (%s): delivered" % (name, how))
        s = p.sessions[-1]
        wire = s["data"][-1] if s["data"] else b""
        got[name[:3]] = unstuff(wire)
        mail = [c for c in s["cmds"] if c.startswith(b"MAIL")]
        t.ok(mail and b"BODY=" not in mail[-1], "no BODY=8BITMIME", mail)
        m = re.search(rb" SIZE=(\d+)", mail[-1]) if mail else None
        t.eq(int(m.group(1)) if m else None, len(unstuff(wire)), "SIZE= is the converted message's size")
        lines = wire.split(b"\r\n")
        t.ok(all(c < 0x80 for c in wire) and max(len(l) for l in lines) <= 998,
             "all lines 7-bit, at most 998 bytes")
        d = same_but_encoding(parse(msg), parse(unstuff(wire)))
        t.eq(d, [], "decoded bodies, fields and the other bytes as the original's")
        t.ok(re.search(r"result=done .*conv=7bit", err), "the log says conv=7bit", err)

wire = got["(d)"]
t.ok(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" in wire and b"\r\ntrailing blanks \t=20\r\n" in wire and
     b"\r\nand =C3=BC =20\r\n=2E\r\n=2E.\r\n" in wire, "trailing blanks and leading dots encoded", wire[-200:])
t.ok(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
     b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9" in wire, "MIME-Version not added where there is one")
wire = got["(a)"]
t.ok(wire.startswith(b"From: a@b.test\r\nTo: x@example.org\r\nSubject: plain\r\nMIME-Version: 1.0\r\n"
                     b"Content-Type: text/plain; charset=unknown-8bit\r\n"
                     b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n=2E\r\n"
                     b"=46rom here\r\na =3D b\r\n"), "a non-MIME message: MIME-Version, RFC 1428's unknown-8bit and the encoding added", wire)
wire = got["(b)"]
t.ok(b"Content-Type: multipart/mixed; boundary=\"outer=1\"\r\nContent-Transfer-Encoding: 7bit\r\n" in wire and
     attach.replace(b"\n", b"\r\n") in wire, "(b): the container's 8bit made 7bit, the attachment byte for byte")

# a 7-bit message goes as it was; 8-bit only in the header: as it is, as Postfix sends it
rc, out, err = send(b"Subject: x\n\nhello\n", "stdin")
t.eq((rc, p.sessions[-1]["data"][-1], "conv=" in err), (0, b"Subject: x\r\n\r\nhello\r\n", False),
     "7-bit: unchanged, no conv= in the log")
rc, out, err = send("Subject: Gr\u00fc\u00dfe\n\nhello\n".encode(), "-B")
t.eq((rc, p.sessions[-1]["data"][-1:], "conv=" in err), (0, ["Subject: Gr\u00fc\u00dfe\r\n\r\nhello\r\n".encode()], False),
     "8-bit header fields go as they are, no conv= in the log")

# cannot be made 7-bit: 8-bit bytes in a preamble, or in a part said to be base64
for name, msg in (("a preamble", b"Content-Type: multipart/mixed; boundary=b\n\n\xe9\n--b\n\nx\n--b--\n"),
                  ("a base64 part", b"Content-Transfer-Encoding: base64\n\n\xe9\n")):
    n = len(p.sessions)
    rc, out, err = send(msg, "stdin")
    t.eq((rc, out[0], out[2]), (100, "perm", "5.6.3"), "8-bit bytes in %s: 5.6.3 as before" % name)
    t.ok(not any(s["data"] for s in p.sessions[n:]), "and nothing sent")
p.close()

# the converted size decides SIZE: under the limit in the file, over it made 7-bit
msg = b"Subject: x\n\n" + b"\xe9" * 300 + b"\n"
p = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 500"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.org:[127.0.0.1]:%d tls=no\n" % p.port)
rc, out, err = send(msg, "stdin")
t.eq((rc, out[0], out[2]), (100, "perm", "5.3.4"), "314 bytes, about 1000 made 7-bit, the peer's limit 500: 5.3.4")
p.close()
t.done()
