#!/usr/bin/python3
# queue-run: a forwarding loop through delivery files (a forwards to b,
# b back to a) is caught before any of a's lines run again. Only forward
# lines checked the Delivered-To field, and deliver-maildir does for
# Maildir lines, so a '|' line before the forward ran once more for the
# looping copy (an autoresponder answered twice, a filter stored twice).
# And a malformed delivery file (here an mbox line) defers every message
# until its owner fixes it: the status names the line at fault.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("sender@example.test", "pw")
mda = pmtest.mailbox(env.add_user("a@example.test", "pw"))
mdb = pmtest.mailbox(env.add_user("b@example.test", "pw"))
pmtest.dotqmail(mda, "|echo run >> ran\n&b@example.test\n")
pmtest.dotqmail(mdb, "&a@example.test\n")
mdc = pmtest.mailbox(env.add_user("c@example.test", "pw"))
pmtest.dotqmail(mdc, "./\n# an mbox, which we do not write:\n/var/mail/c\n")
t.eq(queue_add(env, "sender@example.test", ["a@example.test"], b"Subject: loop\n\nhi\n"), 0, "queued for a")
t.eq(queue_add(env, "sender@example.test", ["c@example.test"], b"Subject: bad\n\nhi\n"), 0, "queued for c")
log = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run"), "-b", "1000", "-m", "1000"], stderr=open(log, "wb"))


def text():
    return open(log, "rb").read().decode(errors="replace")


def status(name):
    return re.findall(r"rcpt=%s@example.test channel=local status=(\w+)" % name, text())


t.ok(wait_for(lambda: len(status("a")) >= 2 and len(status("b")) >= 1 and status("c"), 20), "a tried twice, b once, c", text())
ran = os.path.join(mda, "ran")
t.eq(open(ran).read() if os.path.exists(ran) else "", "run\n", "a's program ran once, not again for the looping copy")
t.eq(sorted(status("a")), ["ok", "perm"], "the looping copy failed for good at a")
t.ok(re.search(r"rcpt=a@example.test channel=local status=perm[^\n]*loop", text()), "... as a mail loop", text())
t.ok(re.search(r"rcpt=c@example.test channel=local status=temp[^\n]*malformed at line 3", text()),
     "c: deferred, the status names line 3 of the delivery file", text())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.done()
