#!/usr/bin/python3
# queue-run, local side: delivery through the real deliver-maildir as the
# user, aliases, user+detail, the delivery file, bounces (RFC 3464, parsed
# with the email module), none for a null sender, a failed bounce to the
# postmaster once and no further; persistent local workers and -S.
import email, os, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
pm = env.add_user("pm@example.test", "pw")
snd = env.add_user("sender@example.test", "pw")
env.run(["mailuser", "alias", "add", "postmaster@example.test", "pm@example.test"])
env.run(["mailuser", "alias", "add", "team@example.test", "demo@example.test", "sender@example.test"])
with open(os.path.join(env.conf, "doublebounceto"), "w") as f:
    f.write("postmaster@example.test\n")

log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log)

msg = b"From: sender@example.test\nTo: demo@example.test\nSubject: plain\n\nhello there\n"
t.eq(queue_add(env, "sender@example.test", ["demo@example.test"], msg), 0, "queued")
got = wait_for(lambda: maildir_files(demo))
t.ok(len(got) == 1, "delivered into demo's Maildir")
if got:
    data = open(got[0], "rb").read()
    t.ok(data.endswith(msg), "message bytes intact after the added trace lines")
    t.ok(b"Delivered-To: demo@example.test\n" in data and data.startswith(b"Return-Path: <sender@example.test>\n"),
         "Return-Path and Delivered-To added by deliver-maildir")
    st = os.stat(got[0])
    t.eq((st.st_uid, st.st_gid), (pmtest.MAILUID, pmtest.MAILGID), "written as the user's uid/gid")
t.ok(wait_for(lambda: not queue_files(env)), "queue empty after delivery")

# user+detail and an alias with two local targets (forwarded as a new queue entry)
queue_add(env, "sender@example.test", ["demo+lists@example.test", "team@example.test"], b"Subject: two\n\nx\n")
t.ok(wait_for(lambda: len(maildir_files(demo)) == 3), "user+detail and alias both reach demo")
t.ok(wait_for(lambda: len(maildir_files(snd)) == 1), "alias second target reached sender")
t.ok(wait_for(lambda: not queue_files(env)), "queue empty again")

# unknown recipient -> one RFC 3464 report to the sender
dsnparams = "RET=HDRS ENVID=env+2Bid\nNOTIFY=FAILURE ORCPT=rfc822;nosuch+40example.test\nNOTIFY=NEVER\n"
queue_add(env, "sender@example.test", ["nosuch@example.test", "other-nosuch@example.test"],
          b"Subject: bounce me\nX-Test: 1\n\nsecret body\n", dsn=dsnparams)
got = wait_for(lambda: [f for f in maildir_files(snd) if b"multipart/report" in open(f, "rb").read()])
t.ok(len(got) == 1, "one report for two failed recipients")
if got:
    m = email.message_from_bytes(open(got[0], "rb").read())
    t.eq(m.get_content_type(), "multipart/report", "multipart/report")
    t.eq(m.get_param("report-type"), "delivery-status", "report-type=delivery-status")
    t.ok(open(got[0], "rb").read().startswith(b"Return-Path: <>\n"), "null envelope sender")
    parts = m.get_payload()
    t.eq([p.get_content_type() for p in parts], ["text/plain", "message/delivery-status", "text/rfc822-headers"],
         "three parts, RET=HDRS gives headers only")
    ds = parts[1].get_payload()
    fields = {}
    for block in ds:
        for k, v in block.items():
            fields.setdefault(k.lower(), []).append(v)
    t.eq(fields.get("final-recipient"), ["rfc822; nosuch@example.test"], "only the NOTIFY=FAILURE recipient reported")
    t.eq(fields.get("action"), ["failed"], "Action: failed")
    t.eq(fields.get("status"), ["5.1.1"], "Status 5.1.1")
    t.eq(fields.get("original-envelope-id"), ["env+id"], "ENVID decoded")
    t.eq(fields.get("original-recipient"), ["rfc822;nosuch@example.test"], "ORCPT decoded")
    t.ok(b"secret body" not in open(got[0], "rb").read(), "body not returned with RET=HDRS")
t.ok(wait_for(lambda: not queue_files(env)), "queue empty after the report")

# a bounce (null sender) that fails goes to the postmaster, once
before = len(maildir_files(pm))
queue_add(env, "", ["nosuch2@example.test"], b"Subject: a bounce\n\nx\n")
t.ok(wait_for(lambda: len(maildir_files(pm)) == before + 1), "failed bounce reported to the postmaster")
t.ok(wait_for(lambda: not queue_files(env)), "queue empty")
# a double bounce that fails is dropped, not reported again
with open(os.path.join(env.conf, "doublebounceto"), "w") as f:
    f.write("nobody-here@example.test\n")
qr.send_signal(1)   # SIGHUP: reread
t.ok(wait_for(lambda: "event=reload" in open(env.path("queue-run.log"), "rb").read().decode(errors="replace"), 10),
     "SIGHUP: the reload is logged with the settings")
n_snd, n_pm = len(maildir_files(snd)), len(maildir_files(pm))
queue_add(env, "", ["nosuch3@example.test"], b"Subject: another bounce\n\nx\n")
t.ok(wait_for(lambda: not queue_files(env), 10), "double bounce failure discarded, queue empty")
time.sleep(0.5)
t.eq((len(maildir_files(snd)), len(maildir_files(pm))), (n_snd, n_pm), "nobody got anything more")

# delivery file: a program, a folder and a forward, in order
with open(os.path.join(demo, ".qmail"), "w") as f:
    f.write("# demo's delivery\n|cat > prog-out; exit 0\n./.Junk/\n&sender@example.test\n")
os.chown(os.path.join(demo, ".qmail"), pmtest.MAILUID, pmtest.MAILGID)
os.chmod(os.path.join(demo, ".qmail"), 0o644)
n_snd = len(maildir_files(snd))
queue_add(env, "x@example.org", ["demo@example.test"], b"Subject: dotqmail\n\nbody\n")
t.ok(wait_for(lambda: maildir_files(os.path.join(demo, ".Junk"))), "delivery file: ./.Junk/ line")
t.ok(wait_for(lambda: len(maildir_files(snd)) == n_snd + 1), "delivery file: & forward")
t.ok(os.path.exists(os.path.join(demo, "prog-out")) and b"Subject: dotqmail" in open(os.path.join(demo, "prog-out"), "rb").read(),
     "delivery file: |command got the message in the Maildir as cwd")
fwd = [f for f in maildir_files(snd) if b"dotqmail" in open(f, "rb").read()]
t.ok(fwd and b"Delivered-To: demo@example.test\n" in open(fwd[0], "rb").read(), "forwarded copy carries Delivered-To")
# a program that exits 100 bounces
with open(os.path.join(demo, ".qmail"), "w") as f:
    f.write("|echo go away >&2; exit 100\n")
queue_add(env, "sender@example.test", ["demo@example.test"], b"Subject: refused\n\nbody\n")
got = wait_for(lambda: [f for f in maildir_files(snd) if b"go away" in open(f, "rb").read()])
t.ok(len(got) == 1, "program exit 100 -> report with its message")
os.unlink(os.path.join(demo, ".qmail"))

# the user's quota from the users table reaches deliver-maildir
small = env.add_user("small@example.test", "pw", quota=100)
queue_add(env, "sender@example.test", ["small@example.test"], b"Subject: big\n\n" + b"x" * 500 + b"\n")
t.ok(wait_for(lambda: "rcpt=small@example.test" in open(env.path("queue-run.log"), "rb").read().decode(errors="replace")),
     "over-quota delivery attempted")
text = open(env.path("queue-run.log"), "rb").read().decode(errors="replace")
t.ok(re.search(r"rcpt=small@example.test channel=local status=temp .*quota", text) is not None and not maildir_files(small),
     "over quota: temporary failure, nothing delivered")

qr.terminate()
t.eq(qr.wait(10), 0, "SIGTERM: clean exit 0")
text = open(env.path("queue-run.log"), "rb").read().decode(errors="replace")
t.ok("event=delivery" in text and "status=ok" in text and "channel=local" in text, "key=value delivery log lines")


# persistent local workers (default) against a job child per message (-S):
# the Maildir file names carry the delivering process's pid (P<pid>)
def pids_of_run(opts, first):
    many = env.add_user("many%d@example.test" % first, "pw")
    for i in range(20):
        queue_add(env, "sender@example.test", ["many%d@example.test" % first], b"Subject: m%d\n\nx\n" % i)
    q = env.start([pmtest.bin("queue-run")] + opts, stderr=log)
    ok = wait_for(lambda: len(maildir_files(many)) == 20)
    q.terminate()
    q.wait(10)
    return ok, {re.search(r"P(\d+)", os.path.basename(f)).group(1) for f in maildir_files(many)}


ok, pids = pids_of_run(["-l", "2"], 1)
t.ok(ok and 1 <= len(pids) <= 2, "-l 2: 20 messages delivered by at most 2 worker processes", pids)
ok, pids = pids_of_run(["-l", "2", "-S"], 2)
t.ok(ok and len(pids) == 20, "-S: a job child per message", len(pids))
t.diag(text[-3000:]) if t.failed else None
t.done()
