#!/usr/bin/python3
# Alias dedupe by records (queue-run(8)) still gives a shared member one
# copy: 30 lists a0..a29 -> u, v, o<i>, all in one message, resolved by
# the local workers at once (each list's copies: u and v one, every o<i>
# one); and a list whose forward was put off does not hand on again, on
# its retry, a member another list already gave its copy meanwhile
# (To: team1, team2; team1 -> u, v, r@remote.test, refused by queue-add
# at first; team2 -> u: u one copy, v one, the retried forward goes to v
# and r@remote.test, not u). Nothing is left in state/ afterwards.
# A record torn by a crash is no record, for any alias read after it.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, subject_copies

N = 30
t = pmtest.TAP()
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
o = [env.add_user("o%d@example.test" % i, "pw") for i in range(N)]
for i in range(N):
    env.run([pmtest.bin("mailuser"), "alias", "add", "a%d@example.test" % i, "u@example.test", "v@example.test",
             "o%d@example.test" % i])
env.run([pmtest.bin("mailuser"), "alias", "add", "team1@example.test", "u@example.test", "v@example.test",
         "r@remote.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "team2@example.test", "u@example.test"])
pmtest.route_nowhere(env)
stub, go = pmtest.queueadd_forwards_fail(env)
open(go, "w").close()
log = env.path("qr.log")
logtext = pmtest.log_reader(log)
qr = env.start([pmtest.bin("queue-run"), "-l", "20"], env={"PIPEMAIL_QUEUEADD": stub}, stderr=open(log, "wb"))

t.eq(queue_add(env, "a@b.test", ["a%d@example.test" % i for i in range(N)], b"Subject: lists\n\nbody\n"), 0,
     "queued to %d lists" % N)
t.ok(wait_for(lambda: not queue_files(env) and all(subject_copies(m, b"lists") for m in o), 60),
     "all delivered", logtext())
t.eq(subject_copies(u, b"lists"), 1, "u one copy")
t.eq(subject_copies(v, b"lists"), 1, "v one copy")
t.eq([subject_copies(m, b"lists") for m in o], [1] * N, "every list's own member one copy")

os.unlink(go)
before = set(queue_files(env))
t.eq(queue_add(env, "a@b.test", ["team1@example.test", "team2@example.test"], b"Subject: retried\n\nbody\n"), 0,
     "queued to two lists")
ids = sorted(set(queue_files(env)) - before)
t.ok(wait_for(lambda: "rcpt=team1@example.test channel=local status=temp" in logtext() and
              "rcpt=team2@example.test channel=local status=ok" in logtext(), 30),
     "team1's forward put off, team2 finished", logtext())
open(go, "w").close()
t.eq(pmtest.queue_retry(env, ids), 0, "retry requested")
t.ok(wait_for(lambda: ids[0] not in queue_files(env) and subject_copies(v, b"retried") == 1, 30),
     "the message finished", logtext())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.eq(subject_copies(u, b"retried"), 1, "u one copy")
left = queue_files(env)
t.eq(len(left), 1, "the forward to r@remote.test waits")
r = subprocess.run([pmtest.bin("queue-list")], env=env.env, capture_output=True, timeout=30)
out = r.stdout.decode(errors="replace")
t.ok("<r@remote.test>" in out and "<v@example.test>" in out and "<u@example.test>" not in out,
     "the retried forward named v and r@remote.test, not u", out)
state = os.listdir(os.path.join(env.queue, "state"))
t.ok(not [f for f in state if f.startswith(ids[0])], "nothing left in state/ of the finished message", state)


def torn_record(rcpts, subject, users):
    """rcpts queued while queue-run is down, their state/ID.qmail holding a
    record torn by a crash ("@1<TAB>u@example.test", no newline); then
    delivered: each of users gets one copy"""
    before = set(queue_files(env))
    t.eq(queue_add(env, "a@b.test", rcpts, b"Subject: " + subject + b"\n\nbody\n"), 0, "queued while queue-run is down")
    torn = sorted(set(queue_files(env)) - before)
    with open(os.path.join(env.queue, "state", torn[0] + ".qmail"), "w") as f:
        f.write("@1\tu@example.test")
    qr = env.start([pmtest.bin("queue-run")], env={"PIPEMAIL_QUEUEADD": stub}, stderr=open(log, "ab"))
    t.ok(wait_for(lambda: torn[0] not in queue_files(env), 30), "delivered", logtext())
    qr.terminate()
    t.eq(qr.wait(15), 0, "queue-run stopped")
    t.eq([subject_copies(m, subject) for m in users], [1] * len(users), "one copy each")


# a record torn by a crash (no newline) is no record: u still gets its copy
torn_record(["team2@example.test", "v@example.test"], b"torn", [u, v])
# ... nor for a later alias of the message: the tear is ended on disk so
# that no reader takes its prefix for a whole record (it was ended with a
# bare newline, which made "@1<TAB>u@example.test" whole for the alias read
# after it: u got no copy)
w = env.add_user("w@example.test", "pw")
env.run([pmtest.bin("mailuser"), "alias", "add", "xa@example.test", "w@example.test"])
env.run([pmtest.bin("mailuser"), "alias", "add", "ya@example.test", "u@example.test"])
torn_record(["xa@example.test", "ya@example.test"], b"torn2", [u, w])
t.done()
