#!/usr/bin/python3
# A delay warning as a reader's parser sees it (python's email, policy
# default): a multipart/report from MAILER-DAEMON with a null envelope
# sender, its delivery-status fields, and Will-Retry-Until (RFC 3464
# 2.3.9): the time the message is given up, its arrival plus the queue
# lifetime (-L). Before, a delay warning never said how long it would
# still be tried.
import email, email.policy, email.utils, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
open(os.path.join(env.conf, "routes"), "w").write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())
t.eq(pmtest.queue_add(env, "sender@example.test", ["a@remote.test"], b"Subject: late\nMessage-ID: <l@x>\n\nbody\n"), 0,
     "queued for a host where nothing listens")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-w", "1", "-L", "7200"],
               stderr=open(env.path("qr.log"), "wb"))
got = pmtest.wait_for(lambda: pmtest.maildir_files(snd), 20)
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
raw = open(got[0], "rb").read() if got else b""
t.ok(raw and all(c < 0x80 for c in raw) and max(len(l) for l in raw.split(b"\n")) <= 998,
     "a delay warning, 7-bit, no line over 998", open(env.path("qr.log"), errors="replace").read())
m = email.message_from_bytes(raw, policy=email.policy.default)
t.eq(m["Return-Path"], "<>", "from the null sender")
t.ok("MAILER-DAEMON@" in str(m["From"]) and m["Auto-Submitted"] == "auto-replied" and m["Date"] and
     m["Message-ID"], "From, Auto-Submitted, Date, Message-ID", raw[:600])
t.eq((m.get_content_type(), m.get_param("report-type")), ("multipart/report", "delivery-status"), "multipart/report")
parts = list(m.iter_parts())
t.eq([p.get_content_type() for p in parts], ["text/plain", "message/delivery-status", "text/rfc822-headers"],
     "text, status, the original's header")
t.ok(all(not p.defects for p in m.walk()), "no defects", [p.defects for p in m.walk()])
blocks = parts[1].get_payload() if len(parts) > 1 else []
t.eq(len(blocks), 2, "a per-message block and one recipient's")
if len(blocks) == 2:
    msg, rc = blocks
    t.ok(msg["Reporting-MTA"].startswith("dns; ") and msg["Arrival-Date"], "Reporting-MTA, Arrival-Date")
    t.eq((rc["Final-Recipient"], rc["Action"], rc["Status"][:2]), ("rfc822; a@remote.test", "delayed", "4."),
         "Final-Recipient, Action delayed, a 4.x.x Status")
    t.ok(rc["Last-Attempt-Date"] and rc["Diagnostic-Code"], "Last-Attempt-Date, Diagnostic-Code")
    until = rc["Will-Retry-Until"]
    t.ok(until is not None, "Will-Retry-Until", str(rc))
    if until:
        span = email.utils.parsedate_to_datetime(until) - email.utils.parsedate_to_datetime(msg["Arrival-Date"])
        t.eq(span.total_seconds(), 7200, "the arrival plus the queue lifetime")
t.done()
