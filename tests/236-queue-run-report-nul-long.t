#!/usr/bin/python3
# A failure report stays a whole MIME message whatever it returns or
# names. Before, a NUL byte in the returned message ended the report
# there (it went to queue-add as a C string): no closing boundary, the
# rest of the message gone. And a recipient address of ~1,000 bytes
# gave Final-Recipient and human-part lines over RFC 5322's 998 bytes.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
long_rcpt = "n" * 980 + "@example.test"
rcpts = ["nobody@example.test", long_rcpt]
t.ok(pmtest.queue_new(env, "sender@example.test", rcpts,
                      b"Subject: nul\n\nbefore\0after\nlast line\n"), "queued")
qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env) and maildir_files(snd), 60), "report delivered")
reports = maildir_files(snd)
t.eq(len(reports), 1, "one failure report")
rep = open(reports[0], "rb").read() if reports else b""
t.ok(re.search(rb"\n--pipemail-[^\n]*-report--\n", rep) is not None, "closing boundary there")
t.ok(b"\nbefore?after\nlast line\n" in rep and b"\0" not in rep, "returned message whole, NUL shown as '?'")
t.ok(b"\nFinal-Recipient: rfc822; nobody@example.test\n" in rep, "the short address named")
t.ok(max(len(l) for l in rep.split(b"\n")) <= 998, "no line over 998 bytes")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
