#!/usr/bin/python3
# RFC 3461 5.2.2: a recipient that asked for NOTIFY=SUCCESS and is handed
# to a peer that does not speak DSN gets a "relayed" report from us (the
# request ends here); one handed to a peer that speaks DSN gets the request
# passed on and no report of ours; one that did not ask gets nothing.
# smtp-send says "relayed" for the first kind on its own too. queue-run
# is checked with its smtp-send -B workers and with -S (one run a job).
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
plain = SMTPPeer({})
dsn = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SIZE", b"DSN"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("plain.test:[127.0.0.1]:%d tls=no\n" % plain.port)
    f.write("dsn.test:[127.0.0.1]:%d tls=no\n" % dsn.port)

# smtp-send alone
r = subprocess.run([pmtest.bin("smtp-send"), "-f", "sender@example.test", "plain.test", "a@plain.test", "b@plain.test"],
                   input=b"Subject: alone\n\nbody\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=dict(env.env, PIPEMAIL_DSN="\nNOTIFY=SUCCESS,FAILURE\nNOTIFY=FAILURE\n"), timeout=30)
out = r.stdout.decode().splitlines()
t.eq(r.returncode, 0, "smtp-send exits 0")
t.eq([l.split(" ")[0] for l in out], ["relayed", "ok"],
     "smtp-send: relayed for the recipient that asked for success, ok for the other")

rcpts = ["asked@plain.test", "quiet@plain.test", "asked@dsn.test"]


def run(opts, how):
    """one message through queue-run with opts: its report checked"""
    for f in maildir_files(snd):
        os.unlink(f)
    dsn.sessions.clear()
    t.eq(queue_add(env, "sender@example.test", rcpts, b"Subject: rel\n\nbody\n",
                   dsn="ENVID=e1\nNOTIFY=SUCCESS ORCPT=rfc822;o1@example.org\nNOTIFY=FAILURE\n"
                       "NOTIFY=SUCCESS ORCPT=rfc822;o3@example.org\n"), 0, "%s: queued" % how)
    logname = env.path("queue-run%s.log" % "".join(opts))
    qr = env.start([pmtest.bin("queue-run")] + opts, stderr=open(logname, "wb"))
    t.ok(wait_for(lambda: not queue_files(env), 20), "%s: delivered and finished" % how, queue_files(env))
    reports = wait_for(lambda: maildir_files(snd), 10)
    t.eq(len(reports), 1, "%s: one report to the sender" % how)
    text = open(reports[0], "rb").read() if reports else b""
    t.ok(b"Action: relayed" in text, "%s: it says relayed" % how)
    t.ok(b"Final-Recipient: rfc822; asked@plain.test" in text and b"o1@example.org" in text,
         "%s: for the recipient at the peer without DSN" % how)
    t.ok(b"quiet@plain.test" not in text, "%s: not for the one that did not ask" % how)
    t.ok(b"asked@dsn.test" not in text, "%s: not for the one whose peer takes the request on" % how)
    t.ok(b"Action: delivered" not in text, "%s: and claims no delivery" % how)
    rcpt_lines = [l for s in dsn.sessions for l in s["cmds"] if l.upper().startswith(b"RCPT")]
    t.ok(any(b"NOTIFY=SUCCESS" in l and b"ORCPT=rfc822;o3@example.org" in l for l in rcpt_lines),
         "%s: the DSN peer got NOTIFY and ORCPT" % how, rcpt_lines)
    log = open(logname, "rb").read().decode(errors="replace")
    t.ok("rcpt=asked@plain.test channel=remote status=relayed" in log, "%s: logged as relayed" % how)
    qr.terminate()
    qr.wait(10)


run([], "smtp-send -B workers")
run(["-S"], "one smtp-send a job (-S)")
plain.close()
dsn.close()
t.done()
