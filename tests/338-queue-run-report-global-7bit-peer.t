#!/usr/bin/python3
# An internationalized report (RFC 6533) about mail to a UTF-8 recipient,
# from an ASCII sender whose host has neither SMTPUTF8 nor 8BITMIME. The
# report's envelope is ASCII, so it goes without SMTPUTF8, but its parts
# are 8-bit: the UTF-8 human part, message/global-delivery-status and the
# original as message/global. Before, smtp-send's 7-bit conversion took
# the message/global* parts for message/rfc822, which may not be encoded,
# failed the report with 5.6.3 and it became a double bounce: the sender
# never learned. RFC 6532 3.7 and RFC 6533 let those types be encoded:
# now they go quoted-printable, and decode at the peer to the report;
# so does message/global-headers, the original's header (RET=HDRS).
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

rcpts = {"FULL": "j\u00f6rg@remote.test", "HDRS": "m\u00fcller@remote.test"}
origs = {}
for ret, rcpt in rcpts.items():
    origs[ret] = ("From: alice@sender.test\nTo: " + rcpt + "\nSubject: Gr\u00fc\u00dfe an J\u00f6rg\n"
                  "Message-ID: <g" + ret + "@sender.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 8bit\n\nGr\u00fc\u00dfe,\n.\nFrom here: " + "\u00e4" * 600 + "\nend \n").encode()
    t.eq(pmtest.queue_add(env, "alice@sender.test", [rcpt], origs[ret], "RET=" + ret + "\n\n"), 0,
         "queued to a UTF-8 recipient, RET=" + ret)
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"))


def reports():
    return [d for s in peer.sessions for d in s["data"] if d]


t.ok(pmtest.wait_for(lambda: not pmtest.queue_files(env) and len(reports()) >= 2, 30),
     "the reports reached the 7-bit peer", open(logp, errors="replace").read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
peer.close()
log = open(logp, errors="replace").read()
t.ok("5.6.3" not in log and "double" not in log and "conv=7bit" in log, "converted, no 5.6.3, no double bounce", log)
mails = [c for s in peer.sessions for c in s["cmds"] if c.upper().startswith(b"MAIL FROM:")]
t.ok(len(mails) == 2 and all(m.startswith(b"MAIL FROM:<>") and b"8BITMIME" not in m and b"SMTPUTF8" not in m
                             for m in mails), "only the reports were sent, from <>, neither 8BITMIME nor SMTPUTF8", mails)


def parse(wire):
    """the report's content type and report-type, and each part's type,
    transfer encoding and decoded bytes (LF line ends)"""
    raw = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in wire.split(b"\r\n"))   # the dots stuffed for SMTP
    m = email.message_from_bytes(raw, policy=email.policy.default)
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
    return (m.get_content_type(), m.get_param("report-type")), parts


seen = [b"m\xc3\xbcller@" in quopri.decodestring(w) for w in reports()]
t.eq(sorted(seen), [False, True], "one report for each")
for wire in reports()[:2]:
    ret = "HDRS" if b"m\xc3\xbcller@" in quopri.decodestring(wire) else "FULL"
    rcpt, orig = rcpts[ret], origs[ret]
    t.ok(all(c < 0x80 for c in wire), ret + ": the report is 7-bit", wire[:3000])
    lines = wire.split(b"\r\n")
    t.ok(lines[-1] == b"" and not any(b"\r" in l or b"\n" in l for l in lines), ret + ": every line ends CRLF on the wire")
    t.ok(max(len(l) for l in lines) <= 998, ret + ": no line longer than 998 bytes", max(len(l) for l in lines))
    ctype, parts = parse(wire)
    t.eq(ctype, ("multipart/report", "global-delivery-status"), ret + ": a global report")
    kind = "message/global" if ret == "FULL" else "message/global-headers"
    t.eq([(p[0], p[1]) for p in parts], [("text/plain", "quoted-printable"),
                                         ("message/global-delivery-status", "quoted-printable"),
                                         (kind, "quoted-printable")], ret + ": its parts, each encoded")
    if len(parts) != 3:
        continue
    human, status = (p[2].decode("utf-8", "replace") for p in parts[:2])
    t.ok("<" + rcpt + ">: " in human, ret + ": the human part names the UTF-8 recipient", human)
    t.ok("Final-Recipient: utf-8; " + rcpt + "\n" in status and "Action: failed\n" in status,
         ret + ": the status part decodes to its UTF-8 fields", status)
    want = orig if ret == "FULL" else orig.split(b"\n\n", 1)[0] + b"\n\n"
    t.eq(parts[2][2], want, ret + ": " + kind + " decodes to the original" + (" header" if ret == "HDRS" else ""))
    o = email.message_from_bytes(parts[2][2], policy=email.policy.default)
    t.eq((o["Subject"], o.get_content() if ret == "FULL" else ""),
         ("Gr\u00fc\u00dfe an J\u00f6rg", orig.decode().split("\n\n", 1)[1] if ret == "FULL" else ""),
         ret + ": which python's email reads as the original")
t.done()
