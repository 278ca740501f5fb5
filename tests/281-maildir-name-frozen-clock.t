#!/usr/bin/python3
# THREATS I4: a message is never overwritten, even when the unique name
# repeats. The clock stopped dead (libfaketime, not even microseconds
# move) and every delivery the same pid (each in a fresh pid namespace,
# where it is pid 1): the first name deliver-maildir tries is the same
# every time, so only its link-never-rename commit stands between a new
# message and the one already there. Test 13 stops the clock for
# concurrent deliveries, whose pids differ. Each run must deliver under a
# new name (0), and every message delivered earlier must stay as it was.
# Past UNIQ_TRIES (32) runs, a counter restarting with each process would
# meet only names taken by the earlier runs and fail (111) for ever: a
# retry's name has random bytes in it now. The same for queue-run's own
# local delivery: two runs, each in a fresh pid namespace, so their
# delivery children have the same pids.
# (queue-add and smtp-recv are linked statically, out of libfaketime's
# reach: lib/qwrite's O_EXCL names are not covered here.)
import glob, hashlib, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
if pmtest.SANITIZED:
    t.skip_all("libfaketime preloaded before the ASan runtime can hang it")
if os.getuid() != 0:
    t.skip_all("needs root for a pid namespace whose processes may drop to the mailbox owner")
LIB = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
if not LIB or subprocess.run(["unshare", "-pf", "true"]).returncode != 0:
    t.skip_all("no libfaketime or no pid namespace here")
# libfaketime preloaded by hand (the faketime wrapper would stand between
# us and unshare); --kill-child: queue-run, pid 1 there, ends with unshare
FAKE = {"LD_PRELOAD": LIB[0], "FAKETIME": "@2020-01-01 00:00:00 x0"}
FROZEN = ["unshare", "-pf", "--kill-child", "--mount-proc"]

env = pmtest.Env()
md = env.add_user("u@example.test", "pw")
ENV = dict(pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="u@example.test"), **FAKE)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def message(i):
    return b"Subject: frozen %02d\n\nthe same size every time\n" % i


N = 40
seen, codes = {}, []
for i in range(N):
    r = subprocess.run(FROZEN + pmtest.deliver_argv(md), input=message(i), env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    codes.append(r.returncode)
    now = {f: digest(f) for f in maildir_files(md)}
    changed = [f for f in seen if now.get(f) != seen[f]]
    if changed:
        t.ok(False, "delivery %d changed or removed an earlier message" % i, changed)
        break
    new = set(now) - set(seen)
    if len(new) != (1 if r.returncode == 0 else 0):
        t.ok(False, "delivery %d (exit %d) added %d files" % (i, r.returncode, len(new)), r.stderr)
        break
    for f in new:
        if not open(f, "rb").read().endswith(message(i)):
            t.ok(False, "delivery %d's file holds its message" % i, f)
    seen = now
else:
    t.ok(True, "%d deliveries, one name each time: no earlier message changed, each 0 one new file" % N)
t.ok(all(c == 0 for c in codes), "each exit is 0, the 33rd and later too", codes)
t.ok(codes[:2] == [0, 0], "the name taken: the second delivery goes under another name", codes[:2])
names = [os.path.basename(f) for f in maildir_files(md)]
t.ok(names and all(n.startswith("1577836800.M0P1Q") for n in names), "the clock and the pid were frozen", names[:3])
t.ok(sum(1 for n in names if "R" in n.split(".")[1]) >= N - 1, "every name after the first has random bytes (R)",
     names[:3])
t.eq(os.listdir(md + "/tmp"), [], "tmp/ empty")

# queue-run's in-process delivery: two runs in fresh pid namespaces
md2 = env.add_user("v@example.test", "pw")
for run in range(2):
    ids = []
    for i in range(4):
        before = set(queue_files(env))
        queue_add(env, "a@example.org", ["v@example.test"], b"Subject: run %d msg %d\n\nsame size\n" % (run, i))
        ids += list(set(queue_files(env)) - before)
    log = open(env.path("qr%d.log" % run), "wb")
    qr = env.start(FROZEN + [pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log, env=FAKE)
    wait_for(lambda: not (set(queue_files(env)) & set(ids)), 30)
    qr.kill()   # unshare ignores SIGTERM while it waits for its child
    qr.wait(20)
    log.close()
texts = sorted(open(f, "rb").read().split(b"\n\n", 1)[0].split(b"Subject: ")[-1] for f in maildir_files(md2))
t.eq(texts, sorted(b"run %d msg %d" % (r, i) for r in range(2) for i in range(4)),
     "queue-run: eight messages, each whole under a name of its own")
t.eq(queue_files(env), [], "queue-run: the queue is empty")
t.done()
