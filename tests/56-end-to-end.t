#!/usr/bin/python3
# End to end: smtplib -> tcpserver + smtp-recv -> queue-add -> queue-run ->
# deliver-maildir. The file in the user's Maildir equals what was sent
# (CRLF or LF as smtp-recv stores it) apart from the added Received:,
# Return-Path: and Delivered-To: lines; DSN parameters pass through.
import email, os, re, smtplib, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
for c in ("smtp-recv", "deliver-maildir", "queue-add", "queue-run"):
    if not os.path.exists(pmtest.bin(c)):
        t.skip_all(c + " not built")
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
snd = env.add_user("sender@example.test", "pw")
port = env.server(["smtp-recv"])
log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run")], stderr=log)

TRACE = re.compile(rb"^(Received|Return-Path|Delivered-To):", re.I)


def norm(b):
    return b.replace(b"\r\n", b"\n")


samples = [b"From: sender@example.test\r\nTo: demo@example.test\r\nSubject: plain\r\n\r\nhello\r\n.leading dot\r\nend\r\n",
           b"From: sender@example.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           + "gr\u00fc\u00dfe, \u65e5\u672c\r\n".encode() + b"x" * 990 + b"\r\n"]
for path in pmtest.corpus_sample(3):
    with open(path, "rb") as f:
        data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if b"\r\n\r\n" in data and len(data) < 200000 and b"\r\n.\r\n" not in data:
        samples.append(data)

with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    for i, m in enumerate(samples):
        s.sendmail("sender@example.test", ["demo@example.test"], m)
got = wait_for(lambda: len(maildir_files(demo)) >= len(samples) and maildir_files(demo), 30)
t.eq(len(maildir_files(demo)), len(samples), "%d messages delivered" % len(samples))
t.ok(wait_for(lambda: not queue_files(env), 10), "queue empty")
files = maildir_files(demo)
stored = []
for f in files:
    with open(f, "rb") as fh:
        stored.append(norm(fh.read()))


def only_trace(prefix):
    lines = prefix.split(b"\n")[:-1]
    return all(TRACE.match(l) or l[:1] in (b" ", b"\t") for l in lines) and lines


for i, m in enumerate(samples):
    nm = norm(m)
    ok = [s_ for s_ in stored if s_.endswith(nm) and only_trace(s_[:len(s_) - len(nm)])]
    t.ok(len(ok) == 1, "message %d byte-exact apart from the added Received/Return-Path/Delivered-To" % i)
with open(files[0], "rb") as fh:
    head = fh.read(2000)
t.ok(re.search(rb"^Return-Path: <sender@example.test>\r?\n", head) is not None, "Return-Path from the envelope")
t.ok(re.search(rb"^Delivered-To: demo@example.test\r?\n", head, re.M) is not None, "Delivered-To")
t.ok(re.search(rb"^Received: ", head, re.M) is not None, "Received from smtp-recv")

# DSN: NOTIFY=FAILURE,DELAY ORCPT and ENVID travel through smtp-recv into the report
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("client.test")
    if s.has_extn("dsn"):
        s.mail("sender@example.test", ["RET=HDRS", "ENVID=e2e-1"])
        s.rcpt("demo@example.test", ["NOTIFY=FAILURE", "ORCPT=rfc822;demo@example.test"])
        code, _ = s.rcpt("demo+x@example.test", ["NOTIFY=SUCCESS,FAILURE"])
        s.data(b"Subject: dsn\r\n\r\nbody\r\n")
t.ok(wait_for(lambda: not queue_files(env), 10), "DSN-carrying message delivered")
rep = wait_for(lambda: [f for f in maildir_files(snd) if b"multipart/report" in open(f, "rb").read()], 10)
t.ok(len(rep) == 1, "NOTIFY=SUCCESS: one success report to the sender")
if rep:
    m = email.message_from_bytes(open(rep[0], "rb").read())
    ds = m.get_payload()[1].get_payload()
    t.eq(ds[0].get("Original-Envelope-Id"), "e2e-1", "ENVID from MAIL FROM")
    t.eq([(b.get("Final-Recipient"), b.get("Action")) for b in ds[1:]], [("rfc822; demo+x@example.test", "delivered")],
         "only the recipient that asked for SUCCESS, Action: delivered")
    t.eq(m.get_payload()[2].get_content_type(), "text/rfc822-headers", "header only")
# finished queue files are kept for reuse (queue/pool), not unlinked, and
# the next message is written into one of them
pool = os.path.join(env.queue, "pool")
before = set(os.listdir(pool)) if os.path.isdir(pool) else set()
t.ok(before and not queue_files(env), "finished queue files pooled: %d" % len(before))
# (a local worker empties the file once queue-run has recorded the delivery)
full = lambda: [f for f in os.listdir(pool) if os.stat(os.path.join(pool, f)).st_size]
wait_for(lambda: not full(), 10)
t.eq(full(), [], "and emptied: no delivered mail kept there")
inodes = {os.stat(os.path.join(pool, f)).st_ino for f in before}
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.sendmail("sender@example.test", ["demo@example.test"], b"Subject: reuse\r\n\r\nagain\r\n")
got = wait_for(lambda: [f for f in maildir_files(demo) if b"Subject: reuse" in open(f, "rb").read()], 10)
t.ok(len(got) == 1 and open(got[0], "rb").read().endswith(b"\n\nagain\n"), "a message through a reused queue file, intact")
wait_for(lambda: not queue_files(env), 10)
after = set(os.listdir(pool))
t.ok(len(before - after) == 1 and {os.stat(os.path.join(pool, f)).st_ino for f in after} == inodes,
     "one pooled file was taken for it and came back: no inode freed or made", (len(before), len(after)))
qr.terminate()
qr.wait(10)
t.done()
