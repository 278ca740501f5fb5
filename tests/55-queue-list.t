#!/usr/bin/python3
# queue-list: the listing (id, age, size, sender, each recipient's status
# and next try) and the admin actions retry / delete / bounce, with and
# without queue-run running.
import os, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_new, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
# a route to a closed port: remote mail stays queued
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % pmtest.free_port())


def ql(*args):
    return env.run(["queue-list"] + list(args), check=False)


os.makedirs(env.queue, exist_ok=True)   # as INSTALL makes it
r = ql()
t.eq((r.returncode, r.stdout), (0, b"0 messages, 0 pending recipients\n"), "empty queue")

# each id from what queue-add added: ids are SECONDS.USEC.PID with USEC not
# zero padded, so sorting them need not give the order they were queued in
ids = [queue_new(env, "sender@example.test", rcpts, msg) for rcpts, msg in
       ((["a@remote.test", "b@remote.test"], b"Subject: one\n\n" + b"x" * 100 + b"\n"),
        (["c@remote.test"], b"Subject: two\n\nbody\n"), (["d@remote.test"], b"Subject: three\n\nbody\n"))]
t.ok(None not in ids, "each queued, its id found", ids)
ids = [i or "0.0.0" for i in ids]   # a failure above, not a crash below
r = ql()
out = r.stdout.decode()
t.ok(r.returncode == 0 and out.endswith("3 messages, 4 pending recipients\n"), "three messages listed", out)
t.ok(re.search(r"^%s  age \d+m  size 115  from <sender@example.test>$" % re.escape(ids[0]), out, re.M),
     "id, age, size, sender", out)
t.ok("  pending <a@remote.test> next now" in out, "recipient status and next try", out)
t.eq(ql("-c").stdout, b"3 messages, 4 pending recipients\n", "-c counts")

# offline: delete and bounce change the files; queue-run acts on them at start
side = [os.path.join(env.queue, "state", ids[1] + x) for x in (".qmail", ".rep")]
for f in side:   # as a delivery file's progress and a report's failures leave them
    with open(f, "w") as out:
        out.write("x\n")
t.eq(ql("delete", ids[1]).returncode, 0, "delete (queue-run not running)")
t.ok(ids[1] not in queue_files(env), "deleted from the queue")
t.eq([os.path.exists(f) for f in side], [False, False], "its state/ID.qmail and ID.rep removed with it")
t.eq(ql("bounce", ids[2]).returncode, 0, "bounce (queue-run not running)")
t.ok("failed <d@remote.test>" in ql().stdout.decode(), "marked failed")
t.eq(ql("delete", "123.456.789").returncode, 100, "unknown id -> 100")
t.eq(ql("delete", "../etc").returncode, 100, "malformed id refused")

log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run"), "-b", "1000", "-m", "1000"], stderr=log)
rep = wait_for(lambda: [f for f in maildir_files(snd) if b"d@remote.test" in open(f, "rb").read()])
t.ok(len(rep) == 1 and b"bounced by the administrator" in open(rep[0], "rb").read(), "queue-run sent the report for the offline bounce")
t.ok(wait_for(lambda: "attempts 1" in ql().stdout.decode()), "first attempt recorded")
out = ql().stdout.decode()
t.ok(re.search(r"pending <a@remote.test> attempts 1 next \d+m last: ", out), "next try and last error shown", out)

# online: retry now, bounce now, delete
t.eq(ql("retry", ids[0]).returncode, 0, "retry (queue-run running)")
t.ok(wait_for(lambda: "attempts 2" in ql().stdout.decode()), "retried at once")
t.eq(ql("retry", "all").returncode, 0, "retry all")
t.ok(wait_for(lambda: "attempts 3" in ql().stdout.decode()), "retried again")
qr.send_signal(14)   # SIGALRM: the whole queue now
t.ok(wait_for(lambda: "attempts 4" in ql().stdout.decode()), "SIGALRM retries everything at once")
n = len(maildir_files(snd))
e_id = queue_new(env, "sender@example.test", ["e@remote.test"], b"Subject: four\n\nbody\n")
# remote.test's hosts refused the tries above: it is suspended (queue-run(8)),
# and the new message waits without a try of its own
t.ok(wait_for(lambda: re.search(r"pending <e@remote.test> next \S+ last: 4\.4\.1 delivery temporarily suspended: ",
                                ql().stdout.decode())), "new message deferred: its domain is suspended",
     ql().stdout.decode())
t.eq(ql("bounce", e_id).returncode, 0, "bounce now")
t.ok(wait_for(lambda: len(maildir_files(snd)) == n + 1), "report sent")
t.ok(wait_for(lambda: e_id not in queue_files(env)), "bounced message left the queue")
t.eq(ql("delete", "123.456.789").returncode, 100, "unknown id -> 100 (queue-run running)")
t.eq(ql("delete", ids[0]).returncode, 0, "delete (queue-run running)")
t.ok(wait_for(lambda: not queue_files(env)), "queue empty")
t.eq(len(maildir_files(snd)), n + 1, "delete sends no report")
qr.terminate()
qr.wait(10)
# a queue directory that is not there is a wrong path (111), not an empty
# queue; one without mess/ yet is empty
r = subprocess.run([pmtest.bin("queue-list")], env=dict(env.env, PIPEMAIL_QUEUE=env.path("no", "queue")),
                   capture_output=True)
t.eq((r.returncode, r.stdout), (111, b""), "a missing queue: exit 111")
os.mkdir(env.path("fresh"))
r = subprocess.run([pmtest.bin("queue-list")], env=dict(env.env, PIPEMAIL_QUEUE=env.path("fresh")),
                   capture_output=True)
t.eq((r.returncode, r.stdout.startswith(b"0 messages")), (0, True), "a queue never written to: empty")
t.done()
