#!/usr/bin/python3
# queue-run with envelopes queue-add takes but smtp-send cannot carry or
# prints altered: a recipient with a blank (a quoted local part) next to a
# good one. smtp-send fails the odd one and prints its blank as '?';
# queue-run must still match its result lines to the recipients, or the
# good recipient is taken for unanswered and delivered again on every retry.
import email, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
p = SMTPPeer({})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % p.port)
log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "30"], stderr=log)


def data_for(rcpt):
    n = 0
    for s in p.sessions:
        rcpts = [c for c in s["cmds"] if c.upper().startswith(b"RCPT")]
        if any(rcpt.encode() in c for c in rcpts):
            n += len(s["data"])
    return n


t.eq(queue_add(env, "sender@example.test", ['"a b"@remote.test', "ok@remote.test"], b"Subject: blank\n\nbody\n"), 0,
     "queue-add takes a recipient with a blank")
t.ok(wait_for(lambda: not queue_files(env), 15), "queue empty: each recipient settled")
time.sleep(2.5)   # retries every second: a wrongly retried recipient shows up here
t.eq(data_for("ok@remote.test"), 1, "the good recipient delivered exactly once")
got = [f for f in maildir_files(snd) if b"multipart/report" in open(f, "rb").read()]
t.eq(len(got), 1, "one report for the recipient smtp-send refused")
if got:
    m = email.message_from_bytes(open(got[0], "rb").read())
    ds = m.get_payload()[1].get_payload()
    t.eq([b.get("Action") for b in ds[1:]], ["failed"], "one recipient failed")
    t.eq([b.get("Status") for b in ds[1:]], ["5.1.3"], "with smtp-send's 5.1.3")
p.close()
t.done()
