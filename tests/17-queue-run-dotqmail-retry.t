#!/usr/bin/python3
# The delivery file's lines are carried out in order; when a later line
# fails temporarily, the lines already carried out are not carried out
# again on the retry (no second copy in the Maildir, no second run of a
# program that exited 0), whatever the number of retries, even when the
# file was edited meanwhile (a line moved is still known; a new line is
# carried out; a line written twice runs twice). What remembers it
# leaves nothing behind in the queue once the message is finished
# (delivered, or bounced at the end of its lifetime).
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files, dotqmail

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
demo = env.add_user("demo@example.test", "pw")
flag = env.path("flag")
runs = env.path("runs")
open(runs, "w").close()
os.chmod(runs, 0o666)


def log():
    return open(env.path("qr.log"), "rb").read().decode(errors="replace")


def attempts(rcpt):
    return len(re.findall(r"event=delivery id=\S+ rcpt=%s channel=local status=temp" % re.escape(rcpt), log()))


def state_files():
    d = os.path.join(env.queue, "state")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


pmtest.mailbox(demo, ["Copy"])
dotqmail(demo, "./\n|echo run >> %s\n./.Copy/\n|test -e %s || exit 111\n" % (runs, flag))
t.eq(queue_add(env, "sender@example.test", ["demo@example.test"], b"Subject: once\n\nbody\n"), 0, "queued")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: attempts("demo@example.test") >= 3, 20), "the last line failed temporarily three times", log())
open(flag, "w").close()
t.ok(wait_for(lambda: not queue_files(env), 15), "then delivered", log())
t.eq(len(maildir_files(demo)), 1, "one copy in the Maildir, not one per attempt")
t.eq(len(maildir_files(os.path.join(demo, ".Copy"))), 1, "one copy in the folder")
t.eq(open(runs).read(), "run\n", "the program that exited 0 ran once")
t.ok(wait_for(lambda: not state_files(), 5), "nothing left in state/", state_files())

# the file edited between two attempts
os.unlink(flag)
open(runs, "w").close()
n0 = len(maildir_files(demo))
a0 = attempts("demo@example.test")
t.eq(queue_add(env, "sender@example.test", ["demo@example.test"], b"Subject: edited\n\nbody\n"), 0, "queued")
t.ok(wait_for(lambda: attempts("demo@example.test") > a0, 20), "failed temporarily")
dotqmail(demo, "./.Copy/\n|echo new >> %s\n|echo run >> %s\n|echo new >> %s\n|test -e %s || exit 111\n"
         % (runs, runs, runs, flag))
a0 = attempts("demo@example.test")
t.ok(wait_for(lambda: attempts("demo@example.test") > a0 + 1, 20), "failed temporarily after the edit")
open(flag, "w").close()
t.ok(wait_for(lambda: not queue_files(env), 15), "then delivered", log())
t.eq(len(maildir_files(demo)), n0 + 1, "the Maildir line ran once (before the edit)")
t.eq(len(maildir_files(os.path.join(demo, ".Copy"))), 2, "a line moved up: not carried out again")
t.eq(open(runs).read(), "run\nnew\nnew\n", "the old program line once, the new one written twice: twice")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")

# a recipient that never succeeds: bounced at the end of its lifetime,
# and what was remembered for it goes with the message
os.unlink(flag)
dotqmail(demo, "./\n|test -e %s || exit 111\n" % flag)
n0 = len(maildir_files(demo))
t.eq(queue_add(env, "sender@example.test", ["demo@example.test"], b"Subject: expires\n\nbody\n"), 0, "queued")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "0"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: not queue_files(env), 15) and re.search(r"status=expired", log()), "expired and bounced", log())
t.ok(wait_for(lambda: not state_files(), 5), "nothing left in state/", state_files())
t.eq(len(maildir_files(demo)), n0 + 1, "delivered into the Maildir once")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.done()
