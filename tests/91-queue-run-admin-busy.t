#!/usr/bin/python3
# queue-list's admin commands for a message still held (share-locked) by a
# delivery child of a killed queue-run: queue-run must treat it as its
# scan does, busy, not send it again under that child, and apply the
# child's state/ID.done once the lock goes; the command is carried out
# then. (Before: "retry" loaded it without the lock check and delivered
# it a second time; its .done file was never applied.)
import fcntl, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
other = env.add_user("other@example.test", "pw")
logp = env.path("queue-run.log")


def queued(rcpt, subject):
    before = set(queue_files(env))
    t.eq(queue_add(env, "demo@example.test", [rcpt], b"Subject: " + subject + b"\n\nbody\n"), 0, "queued")
    return (set(queue_files(env)) - before).pop()


def hold(id):
    fd = os.open(os.path.join(env.queue, "mess", id), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)   # as a delivery child holds it
    return fd


def ql(*a):
    return env.run(["queue-list"] + list(a), check=False).returncode


a = queued("demo@example.test", b"held, its child delivered it")
b = queued("demo@example.test", b"held, deleted by the admin")
fa, fb = hold(a), hold(b)
os.makedirs(os.path.join(env.queue, "state"), exist_ok=True)
with open(os.path.join(env.queue, "state", a + ".done"), "w") as f:
    f.write("0 ok 2.0.0 - delivered by the killed run's child\n")
c = queued("other@example.test", b"free")

# queue-run not running: queue-list changes the files itself, and must not
# under a delivery still running (it would bounce what the child delivers)
t.eq(ql("bounce", a), 111, "offline bounce of a held message: 111, try later")
t.eq(ql("delete", b), 111, "offline delete of a held message: 111")
t.ok(not os.path.exists(os.path.join(env.queue, "state", b)) and
     os.path.exists(os.path.join(env.queue, "mess", b)), "nothing changed")

qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(logp, "wb"))
t.ok(wait_for(lambda: maildir_files(other), 10), "the free message is delivered")
log = lambda: open(logp, "rb").read().decode(errors="replace")
t.ok(wait_for(lambda: log().count("event=busy") >= 2, 10), "both held messages seen busy", log())
t.eq(ql("retry", a), 0, "retry the held one")
t.eq(ql("bounce", a), 0, "bounce it")
t.eq(ql("delete", b), 0, "delete the other held one")
time.sleep(2.5)   # queue-run takes the commands within a poll round and looks at busy ones each second
t.eq(maildir_files(demo), [], "nothing sent while its child holds it")
t.eq(sorted(queue_files(env)), sorted([a, b]), "both still queued")
os.close(fa)
os.close(fb)
t.ok(wait_for(lambda: not queue_files(env), 10), "released: both finished", queue_files(env))
time.sleep(0.5)
t.eq(maildir_files(demo), [], "a: the child's result applied (delivered once, by it), no bounce; b: deleted unsent")
t.ok("recovered" in log() and "delivered by the killed run" in log(), "the .done result was recorded", log())
t.ok(not os.path.exists(os.path.join(env.queue, "state", a + ".done")), ".done consumed")
qr.terminate()
qr.wait(10)
t.done()
