#!/usr/bin/python3
# Every report queue-run writes for one message, checked field by field
# (RFC 3464 over RFC 5322 / MIME): a delay warning, then a failure report
# for the recipient refused at once, then one for the recipient that
# expires. Each is multipart/report; report-type=delivery-status with a
# text part, a message/delivery-status part and the original (or its
# header), a null-sender-safe Auto-Submitted, one Date and one Message-ID,
# the per-message and per-recipient fields with the right syntax, a
# Status whose class matches the Action. And no two reports share a
# Message-ID: a client that drops duplicates by Message-ID (Gmail,
# formail -D, Dovecot's duplicate check) would hide the later one.
import email, email.policy, email.utils, os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())
msg = b"From: sender@example.test\nSubject: three reports\nMessage-ID: <orig@example.test>\n\nbody\n"
t.eq(queue_add(env, "sender@example.test", ["a@remote.test", "nobody@example.test"], msg,
               "RET=HDRS ENVID=env+2B1\nNOTIFY=DELAY,FAILURE ORCPT=rfc822;A+40remote.test\n\n"), 0, "queued")
# -w 1: a delay warning after a second; -L 4: the remote one expires after four
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-w", "1", "-L", "4"],
               stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env) and len(maildir_files(snd)) >= 3, 20), "three reports, queue empty",
     open(env.path("qr.log")).read())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")

DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                  r"\d\d:\d\d:\d\d [+-]\d{4}$")
STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")


def fields(block):
    """RFC 822-style fields of one delivery-status block: name -> [values]"""
    out = {}
    for line in block.strip("\n").split("\n"):
        t.ok(re.match(r"^[A-Za-z-]+: \S", line) is not None, "field syntax: %r" % line)
        k, _, v = line.partition(": ")
        out.setdefault(k.lower(), []).append(v)
    return out


ids, actions = [], []
for path in maildir_files(snd):
    raw = open(path, "rb").read()
    t.ok(all(b < 0x80 for b in raw), "7-bit report")
    t.ok(all(len(l) <= 998 for l in raw.split(b"\n")), "lines within 998 octets")
    m = email.message_from_bytes(raw, policy=email.policy.strict)
    t.eq(m.get("Return-Path"), "<>", "null envelope sender")
    for h in ("Date", "Message-ID", "From", "To", "Subject", "Auto-Submitted", "MIME-Version"):
        t.eq(len(m.get_all(h) or []), 1, "exactly one %s" % h)
    t.ok(DATE.match(m["Date"]) is not None, "Date syntax")
    t.ok(re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", m["Message-ID"]) is not None, "Message-ID syntax")
    ids.append(m["Message-ID"])
    t.eq(m["Auto-Submitted"], "auto-replied", "Auto-Submitted: auto-replied")
    t.eq(m.get_content_type(), "multipart/report", "multipart/report")
    t.eq(m.get_param("report-type"), "delivery-status", "report-type=delivery-status")
    parts = m.get_payload()
    t.eq([p.get_content_type() for p in parts], ["text/plain", "message/delivery-status", "text/rfc822-headers"],
         "text, delivery-status, the original's header (RET=HDRS)")
    if len(parts) != 3:
        continue
    t.ok(b"body" not in parts[2].get_payload(decode=True), "RET=HDRS: no body returned")
    ds = raw.decode().split("Content-Type: message/delivery-status\n\n", 1)[1].split("\n--", 1)[0]
    blocks = [b for b in ds.split("\n\n") if b.strip()]
    pm = fields(blocks[0])
    t.eq(pm.get("reporting-mta"), ["dns; mx.example.test"], "Reporting-MTA")
    t.eq(pm.get("original-envelope-id"), ["env+1"], "Original-Envelope-Id, xtext decoded")
    t.ok(DATE.match((pm.get("arrival-date") or [""])[0]) is not None, "Arrival-Date syntax")
    for b in blocks[1:]:
        r = fields(b)
        for k in ("final-recipient", "action", "status"):
            t.eq(len(r.get(k, [])), 1, "one %s" % k)
        act, st = r["action"][0], r["status"][0]
        actions.append((r["final-recipient"][0], act))
        t.ok(STATUS.match(st) is not None, "Status syntax: " + st)
        t.ok(re.match(r"^rfc822; \S+@\S+$", r["final-recipient"][0]) is not None, "Final-Recipient syntax")
        t.eq(st[0], {"failed": st[0] if st[0] in "45" else "5", "delayed": "4"}.get(act, "?"),
             "Status class fits Action %s: %s" % (act, st))
        for k in ("last-attempt-date", "will-retry-until"):
            for v in r.get(k, []):
                t.ok(DATE.match(v) is not None, "%s syntax" % k)
        if r["final-recipient"][0] == "rfc822; a@remote.test":
            t.eq(r.get("original-recipient"), ["rfc822;A@remote.test"], "Original-Recipient from ORCPT")
        for v in r.get("diagnostic-code", []):
            # "smtp" only for an SMTP reply (RFC 3464 2.3.6): a local or
            # connection failure is not one
            t.ok(re.match(r"^(smtp; [2-5]\d\d( |-|$)|X-[A-Za-z0-9-]+; \S)", v) is not None,
                 "Diagnostic-Code type fits its text: " + v)
t.eq(sorted(actions), sorted([("rfc822; a@remote.test", "delayed"), ("rfc822; a@remote.test", "failed"),
                              ("rfc822; nobody@example.test", "failed")]), "the three reports")
t.eq(len(set(ids)), len(ids), "every report has a Message-ID of its own")
t.done()
