#!/usr/bin/python3
# Reports about internationalized mail (RFC 6533): a UTF-8 recipient
# refused by the peer comes back as multipart/report;
# report-type=global-delivery-status, with a UTF-8 text part, a
# message/global-delivery-status part whose Final-Recipient has the
# utf-8 address type, and the original as message/global. A report about
# ASCII mail with an 8-bit body stays a plain, 7-bit one: the original's
# headers only, for a peer without 8BITMIME takes it (test 254).
import email, email.policy, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
utf = "j\u00fcrgen@remote.test"
peer = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SIZE", b"SMTPUTF8"],
                 "rcpt": {utf: b"550 5.1.1 no such user", "ascii@remote.test": b"550 5.1.1 no such user"}})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % peer.port)

global_msg = "From: sender@example.test\nTo: <%s>\nSubject: Gr\u00fc\u00dfe\nMessage-ID: <g@example.test>\n\nhallo\n" % utf
t.eq(queue_add(env, "sender@example.test", [utf], global_msg.encode(), "RET=FULL\n\n"), 0, "UTF-8 message queued")
plain_msg = "From: sender@example.test\nSubject: plain\nMessage-ID: <p@example.test>\n\nGr\u00fc\u00dfe\n"
t.eq(queue_add(env, "sender@example.test", ["ascii@remote.test"], plain_msg.encode(), "RET=FULL\n\n"), 0,
     "8-bit body queued")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env) and len(maildir_files(snd)) >= 2, 20), "two reports, queue empty",
     open(env.path("qr.log")).read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
peer.close()

def parts_of(raw, boundary):
    """(header, body) of each body part, raw bytes split at the boundary"""
    out = []
    for chunk in raw.split(b"\n--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\n").partition(b"\n\n")
        out.append((head.decode("utf-8"), body))
    return out


reports = {}
for path in maildir_files(snd):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.SMTPUTF8)
    reports["global" if "global" in m.get("Content-Type", "") else "plain"] = (m, parts_of(raw, m.get_boundary()))
t.eq(sorted(reports), ["global", "plain"], "one global report, one plain report")

if "global" in reports:
    g, parts = reports["global"]
    t.eq((g.get_content_type(), g.get_param("report-type")), ("multipart/report", "global-delivery-status"),
         "multipart/report; report-type=global-delivery-status")
    t.eq([h.split("\n")[0] for h, b in parts],
         ["Content-Type: text/plain; charset=utf-8", "Content-Type: message/global-delivery-status",
          "Content-Type: message/global"], "text in UTF-8, global delivery status, global original")
    t.ok(all("Content-Transfer-Encoding: 8bit" in h for h, b in parts), "each part declared 8bit")
    text, status, orig = (b.decode("utf-8") for h, b in parts)
    t.ok("<%s>" % utf in text, "the text names the UTF-8 address", text)
    t.ok("\nFinal-Recipient: utf-8; %s\n" % utf in status, "Final-Recipient: utf-8; address", status)
    t.ok("\nAction: failed\n" in status and "\nStatus: 5.1.1\n" in status, "Action and Status", status)
    t.ok("Subject: Gr\u00fc\u00dfe" in orig and "hallo" in orig, "the original returned whole", orig[:300])

if "plain" in reports:
    p, parts = reports["plain"]
    t.eq(p.get_param("report-type"), "delivery-status", "plain report-type")
    t.eq([h for h, b in parts],
         ["Content-Type: text/plain; charset=us-ascii", "Content-Type: message/delivery-status",
          "Content-Type: text/rfc822-headers"],
         "text, delivery status, the 8-bit original's headers only")
    t.ok(b"\nFinal-Recipient: rfc822; ascii@remote.test\n" in parts[1][1], "rfc822 address type", parts[1][1])
    t.ok(all(c < 0x80 for c in parts[0][1] + parts[1][1]), "text and status 7-bit")
t.done()
