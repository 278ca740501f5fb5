#!/usr/bin/python3
# A report to a sender at an IDN domain with an ASCII local part
# (alice@bücher.test) whose host has neither SMTPUTF8 nor 8BITMIME. The
# address has an ASCII form (A-labels, RFC 5891) that smtp-send gives
# such a peer; the report must go 7-bit too. Before, the UTF-8 address
# made the report 8-bit (To: in UTF-8, the 8-bit original returned as
# message/global, which smtp-send may not encode): it failed there with
# 5.6.3 and became a double bounce, and the sender never learned.
import email, email.policy, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env()
# one peer, no SMTPUTF8 nor 8BITMIME, for the recipient's domain and the sender's (its A-labels: routes are ASCII)
peer = SMTPPeer({"ext": [b"PIPELINING"], "rcpt": {"carol@remote.test": b"550 5.1.1 no such user"}})
open(os.path.join(env.conf, "routes"), "w").write("".join("%s:[127.0.0.1]:%d tls=no\n" % (d, peer.port)
                                                          for d in ("remote.test", "xn--bcher-kva.test")))

sender = "alice@b\u00fccher.test"
msg = "From: alice@xn--bcher-kva.test\nSubject: hallo\nMessage-ID: <i1@b.test>\n\nGr\u00fc\u00dfe\n"
t.eq(pmtest.queue_add(env, sender, ["carol@remote.test"], msg.encode(), "RET=FULL\n\n"), 0, "queued from an IDN sender")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"))


def reports():
    return [d for s in peer.sessions for d in s["data"] if d]


t.ok(pmtest.wait_for(lambda: not pmtest.queue_files(env) and len(reports()) >= 1, 30), "the report reached the 7-bit peer",
     open(logp, errors="replace").read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
peer.close()
log = open(logp, errors="replace").read()
t.ok("5.6.3" not in log and "double" not in log, "no 5.6.3, no double bounce", log)
rcpts = [c for s in peer.sessions for c in s["cmds"] if c.upper().startswith(b"RCPT TO:")]
t.ok(b"RCPT TO:<alice@xn--bcher-kva.test>" in rcpts, "to the sender's ASCII form", rcpts)
raw = (reports() or [b""])[0].replace(b"\r\n", b"\n")
t.ok(raw and all(c < 0x80 for c in raw), "the report is 7-bit", raw[:3000])
m = email.message_from_bytes(raw, policy=email.policy.default)
parts = list(m.iter_parts())
t.eq(m["To"].addresses[0].addr_spec if m["To"] else None, "alice@xn--bcher-kva.test", "To: in A-labels")
t.eq((m.get_content_type(), m.get_param("report-type")), ("multipart/report", "delivery-status"), "a plain report")
t.eq([p.get_content_type() for p in parts], ["text/plain", "message/delivery-status", "text/rfc822-headers"],
     "its parts: the original's header only, its 8-bit body left out")
t.ok(len(parts) == 3 and "Subject: hallo" in parts[2].get_content() and "Gr" not in parts[2].get_content(),
     "the header returned", raw)
t.done()
