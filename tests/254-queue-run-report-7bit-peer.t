#!/usr/bin/python3
# A report about 8-bit mail reaches a peer without 8BITMIME (RFC 6152 3:
# no 8-bit data to it). The original, an 8-bit body or a UTF-8 header
# with ASCII addresses, fails there: the body with 8-bit bytes where
# smtp-send's 7-bit conversion may not encode them (a multipart's
# preamble, test 276) with 5.6.3; the header, which goes as it is (as
# Postfix sends it), refused by the peer. Its report goes to the
# sender's host, the same 7-bit peer. Before, the report carried the
# 8-bit original, failed the same way and became a double bounce: the
# sender never learned. Now the 8-bit body is left out (headers only)
# and 8-bit headers go in base64 (message/global-headers, RFC 6533 6.3).
import base64, email, email.policy, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env()
peer = SMTPPeer({"ext": [b"PIPELINING", b"SIZE 10000000"], "rcpt": {"carol@remote.test": b"550 5.1.1 no such user"}})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % peer.port)
    f.write("sender.test:[127.0.0.1]:%d tls=no\n" % peer.port)

mp = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
body8 = "From: alice@sender.test\nSubject: body8\nMessage-ID: <b8@sender.test>\n" + mp + "Gr\u00fc\u00dfe\n--b\n\nx\n--b--\n"
hdr8 = "From: alice@sender.test\nSubject: Gr\u00fc\u00dfe\nMessage-ID: <h8@sender.test>\n\nhallo\n"
t.eq(queue_add(env, "alice@sender.test", ["bob@remote.test"], body8.encode(), "RET=FULL\n\n"), 0, "8-bit body queued")
t.eq(queue_add(env, "alice@sender.test", ["carol@remote.test"], hdr8.encode(), "RET=FULL\n\n"), 0,
     "UTF-8 header queued")
logp = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"))


def reports():
    """what the peer took as mail: not the empty one smtp-send ends DATA
    with when the peer said 354 after refusing every recipient (carol)"""
    return [d for s in peer.sessions for d in s["data"] if d]


t.ok(wait_for(lambda: not queue_files(env) and len(reports()) >= 2, 30), "two reports sent to the 7-bit peer",
     open(logp, errors="replace").read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
peer.close()
mails = [c for s in peer.sessions for c in s["cmds"] if c.upper().startswith(b"MAIL FROM:")]
t.ok(sum(m.startswith(b"MAIL FROM:<>") for m in mails) == 2 and all(b"8BITMIME" not in m for m in mails),
     "the reports go from <>, nothing with BODY=8BITMIME", mails)
got = {}
for raw in reports():
    t.ok(all(c < 0x80 for c in raw), "report 7-bit", raw[:2000])
    m = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    parts = list(m.iter_parts())
    status = parts[1].as_string() if len(parts) > 1 else ""
    got["bob" if "bob@remote.test" in status else "carol"] = (m, parts, raw.replace(b"\r\n", b"\n"))
t.eq(sorted(got), ["bob", "carol"], "a report for each")
if "bob" in got:
    m, parts, _ = got["bob"]
    t.eq(m.get_param("report-type"), "delivery-status", "8-bit body: a plain report")
    t.eq(parts[2].get_content_type(), "text/rfc822-headers", "the original's headers only")
    raw = parts[2].get_payload()
    t.ok("Subject: body8" in raw and "Gr" not in raw, "its header, not its body", raw)
if "carol" in got:
    m, parts, raw = got["carol"]
    t.eq(m.get_param("report-type"), "global-delivery-status", "UTF-8 header: a global report")
    t.eq((parts[2].get_content_type(), parts[2]["Content-Transfer-Encoding"]), ("message/global", "base64"),
         "the original as message/global in base64")
    b64 = raw.split(b"Content-Transfer-Encoding: base64\n\n", 1)[-1].split(b"\n\n--", 1)[0]
    orig = base64.b64decode(b64).decode("utf-8", "replace")
    t.ok("Subject: Gr\u00fc\u00dfe\n" in orig and "hallo" in orig, "decoding to the UTF-8 original", orig)
t.done()
