#!/usr/bin/python3
# THREATS I8: an address is data, never shell text. Recipients (and a
# sender) whose local parts carry $(...), backticks, ';', '|', '&&',
# redirections and quotes reach a user whose delivery file has a
# "|command" line and a forward line ("&address"). The command line is
# run by /bin/sh -c as written in the file; the address reaches it only
# in the environment (SENDER, RECIPIENT, DTLINE, as qmail-command(8)),
# never spliced into the command: none of the injected commands runs
# (no file they would make appears), the program sees each address byte
# for byte in $RECIPIENT, and the forwarded copy arrives once per message.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, maildir_files, dotqmail

t = pmtest.TAP()
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
BAD = ["u+$(touch${IFS}f1)@example.test",
       "u+`touch${IFS}f2`@example.test",
       "u+x;touch${IFS}f3;@example.test",
       "u+x|touch${IFS}f4|@example.test",
       "u+x&&touch${IFS}f5&&@example.test",
       "u+'\";touch${IFS}f6;#'\"@example.test",
       "u+x>f7<f8@example.test",
       "u+\\$(touch${IFS}f9)\\@example.test"]
SENDER = "s+$(touch${IFS}g1)`touch${IFS}g2`;touch${IFS}g3@example.org"
# the program: its environment, NUL-separated, appended to a file
dotqmail(u, "|printf '%s\\0%s\\0%s\\0' \"$RECIPIENT\" \"$SENDER\" \"$DTLINE\" >>seen\n&v@example.test\n")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(env.path("qr.log"), "wb"))
for i, r in enumerate(BAD):
    t.eq(queue_add(env, SENDER, [r], b"Subject: shell %d\n\nbody\n" % i), 0, "queued for %s" % r)
t.ok(wait_for(lambda: not queue_files(env), 60), "the queue empties", queue_files(env))
seen = os.path.join(u, "seen")
fields = open(seen, "rb").read().split(b"\0")[:-1] if os.path.exists(seen) else []
got = [fields[i:i + 3] for i in range(0, len(fields), 3)]
t.eq(sorted(g[0].decode() for g in got), sorted(BAD), "the program ran once per message, $RECIPIENT the address")
t.ok(got and all(g[1].decode() == SENDER for g in got), "$SENDER the sender, as it was", got[:1])
t.ok(got and all(g[2].decode().startswith("Delivered-To: u+") for g in got), "$DTLINE names the recipient",
     got[:1])
t.eq(len(maildir_files(v)), len(BAD), "the forward line: one copy each")
# the program runs in the user's Maildir: made there, or anywhere in ours
MARKS = {"f%d" % i for i in range(1, 10)} | {"g1", "g2", "g3"}
made = [os.path.join(d, f) for d, _, files in os.walk(env.path()) for f in files if f in MARKS]
t.eq(made, [], "no command in an address ran: no file it would make")
qr.terminate()
qr.wait(20)
t.done()
