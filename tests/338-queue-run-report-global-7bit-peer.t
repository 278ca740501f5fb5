#!/usr/bin/python3
# An internationalized report (RFC 6533) about mail to a UTF-8 recipient,
# from an ASCII sender whose host has neither SMTPUTF8 nor 8BITMIME. The
# report's envelope is ASCII, so it goes without SMTPUTF8, but its parts
# are 8-bit: the UTF-8 human part, message/global-delivery-status and the
# original as message/global. Before, smtp-send's 7-bit conversion took
# the message/global* parts for message/rfc822, which may not be encoded,
# failed the report with 5.6.3 and it became a double bounce: the sender
# never learned. RFC 6532 3.7 and RFC 6533 let those types be encoded:
# now they go quoted-printable, and decode at the peer to the report.
import base64, email, email.parser, email.policy, os, quopri, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env()
# one 7-bit peer for both domains: the UTF-8 recipient fails there (no SMTPUTF8), the report comes back to it
peer = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 10000000"]})
open(os.path.join(env.conf, "routes"), "w").write("".join("%s:[127.0.0.1]:%d tls=no\n" % (d, peer.port)
                                                          for d in ("remote.test", "sender.test")))

rcpt = "j\u00f6rg@remote.test"
orig = ("From: alice@sender.test\nTo: " + rcpt + "\nSubject: Gr\u00fc\u00dfe an J\u00f6rg\n"
        "Message-ID: <g1@sender.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\nGr\u00fc\u00dfe,\n.\nFrom here: " + "\u00e4" * 600 + "\nend \n").encode()
t.eq(pmtest.queue_add(env, "alice@sender.test", [rcpt], orig, "RET=FULL\n\n"), 0, "queued to a UTF-8 recipient")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"))


def reports():
    return [d for s in peer.sessions for d in s["data"] if d]


t.ok(pmtest.wait_for(lambda: not pmtest.queue_files(env) and len(reports()) >= 1, 30),
     "the report reached the 7-bit peer", open(logp, errors="replace").read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
peer.close()
log = open(logp, errors="replace").read()
t.ok("5.6.3" not in log and "double" not in log and "conv=7bit" in log, "converted, no 5.6.3, no double bounce", log)
mails = [c for s in peer.sessions for c in s["cmds"] if c.upper().startswith(b"MAIL FROM:")]
t.ok(mails and all(m.startswith(b"MAIL FROM:<>") and b"8BITMIME" not in m and b"SMTPUTF8" not in m
                   for m in mails), "only the report was sent, from <>, neither 8BITMIME nor SMTPUTF8", mails)
wire = (reports() or [b""])[0]
t.ok(wire and all(c < 0x80 for c in wire), "the report is 7-bit", wire[:3000])
lines = wire.split(b"\r\n")
t.ok(lines[-1] == b"" and not any(b"\r" in l or b"\n" in l for l in lines), "every line ends CRLF on the wire")
t.ok(max(len(l) for l in lines) <= 998, "no line longer than 998 bytes", max(len(l) for l in lines))
raw = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)   # the dots stuffed for SMTP

m = email.message_from_bytes(raw, policy=email.policy.default)
t.eq((m.get_content_type(), m.get_param("report-type")), ("multipart/report", "global-delivery-status"),
     "a global report")
bnd = (m.get_boundary() or "").encode()
chunks = raw.partition(b"\r\n\r\n")[2].split(b"\r\n--" + bnd) if bnd else []
parts = []
for c in chunks[1:]:
    if c.startswith(b"--") or b"\r\n" not in c:
        break
    head, _, content = c.split(b"\r\n", 1)[1].partition(b"\r\n\r\n")
    h = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(head + b"\r\n\r\n")
    cte = (h["Content-Transfer-Encoding"] or "7bit").lower()
    data = quopri.decodestring(content) if cte == "quoted-printable" else \
        base64.b64decode(content) if cte == "base64" else content
    parts.append((h.get_content_type(), cte, data.replace(b"\r\n", b"\n")))
t.eq([(p[0], p[1]) for p in parts], [("text/plain", "quoted-printable"),
                                     ("message/global-delivery-status", "quoted-printable"),
                                     ("message/global", "quoted-printable")], "its parts, each encoded")
if len(parts) == 3:
    human, status, ret = (p[2].decode("utf-8", "replace") for p in parts)
    t.ok("<" + rcpt + ">: " in human, "the human part names the UTF-8 recipient", human)
    t.ok("Final-Recipient: utf-8; " + rcpt + "\n" in status and "Action: failed\n" in status,
         "the status part decodes to its UTF-8 fields", status)
    t.eq(parts[2][2], orig, "message/global decodes to the original, byte for byte")
    o = email.message_from_bytes(parts[2][2], policy=email.policy.default)
    t.eq((o["Subject"], o.get_content()), ("Gr\u00fc\u00dfe an J\u00f6rg", orig.decode().split("\n\n", 1)[1]),
         "which python's email reads as the original")
t.done()
