#!/usr/bin/python3
# Odd files planted in the queue (by whoever can write its directories):
# a FIFO where a message, a state file, a .done file or a scratch state
# file belongs; a symbolic link or a directory as a state file. queue-run
# runs as root and must neither hang on one (an open(2) of a FIFO waits
# for a writer: every delivery stopped) nor follow a link, and a message
# whose state file is not a plain file has corrupt state: all its
# recipients pending, delivered (queue.h), never left untouched forever.
# queue-list must list the queue all the same.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
user = env.add_user("user@example.test", "pw")
logp = env.path("qr.log")
log = lambda: open(logp, "rb").read().decode(errors="replace")
Q = lambda *p: os.path.join(env.queue, *p)

cases = ["state fifo", "state symlink", "state directory", "done fifo", "tmp fifo", "plain"]
ids = {}
for c in cases:
    before = set(queue_files(env))
    t.eq(queue_add(env, "s@example.test", ["user@example.test"], b"Subject: " + c.encode() + b"\n\nbody\n"), 0,
         "queued: " + c)
    ids[c] = (set(queue_files(env)) - before).pop()
os.makedirs(Q("state"), exist_ok=True)
os.makedirs(Q("tmp"), exist_ok=True)
target = env.path("target")
with open(target, "w") as f:
    f.write("not queue state\n")
os.mkfifo(Q("state", ids["state fifo"]))
os.symlink(target, Q("state", ids["state symlink"]))
os.mkdir(Q("state", ids["state directory"]))
os.mkfifo(Q("state", ids["done fifo"] + ".done"))
os.mkfifo(Q("tmp", ids["tmp fifo"] + ".state"))
fifo_id = "1700000000.1.1"
os.mkfifo(Q("mess", fifo_id))   # not a message at all

try:
    r = env.run(["queue-list"], check=False, timeout=10)
    listed = r.stdout.decode()
except subprocess.TimeoutExpired:
    listed = "(hung)"
t.ok(listed.endswith("6 messages, 6 pending recipients\n"), "queue-list lists the six messages", listed)

qr = env.start([pmtest.bin("queue-run")], stderr=open(logp, "wb"))
got = wait_for(lambda: len(maildir_files(user)) >= len(cases), 20)
subjects = sorted(open(f, "rb").read().split(b"Subject: ")[1].split(b"\n")[0].decode() for f in maildir_files(user))
t.eq(subjects, sorted(cases), "each message delivered once, odd state or not")
t.ok(wait_for(lambda: queue_files(env) == [fifo_id], 10), "all but the FIFO left the queue", log())
t.eq(open(target).read(), "not queue state\n", "the linked file is untouched")
t.ok(os.path.exists(target) and not os.path.islink(target), "and still there")
t.ok(qr.poll() is None, "queue-run runs on", log())
try:
    r = env.run(["queue-list", "-c"], check=False, timeout=10)
    listed = r.stdout.decode()
except subprocess.TimeoutExpired:
    listed = "(hung)"
t.eq(listed, "0 messages, 0 pending recipients\n", "queue-list: nothing queued")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
