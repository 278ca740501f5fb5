#!/usr/bin/python3
# A delivery program that never ends (a user's "|sleep 60"), or ends but
# leaves a child holding its stderr ("|sleep 60 & exit 0"), or one that
# escaped its process group (setsid) holding it, must not hold a local
# delivery slot past the time limit (-c; 1000 s by default): its process
# group is killed, the recipient deferred with a reason, the slot freed,
# and other local mail keeps flowing (with -l 1, one slot, here).
import os, re, signal, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
fast = env.add_user("fast@example.test", "pw")
users = {}
progs = {
    "slow": "|echo $$ > main.pid; sleep 60 & echo $! > bg.pid; sleep 60\n",
    "bg": "|sleep 60 & echo $! > bg.pid; exit 0\n",
    "escape": "|setsid sh -c 'echo $$ > esc.pid; exec sleep 60' & sleep 60\n",
    # no pipe of ours left open to watch: the limit holds all the same
    "closed": "|ls -l /proc/$$/fd > fds; exec 2>&-; echo $$ > main.pid; exec sleep 60\n",
}
for name, prog in progs.items():
    d = users[name] = env.add_user(name + "@example.test", "pw")
    os.makedirs(d, exist_ok=True)
    for sub in ("", "new", "cur", "tmp"):
        p = os.path.join(d, sub)
        os.makedirs(p, exist_ok=True)
        os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
    with open(os.path.join(d, ".qmail"), "w") as f:
        f.write(prog)
    os.chown(os.path.join(d, ".qmail"), pmtest.MAILUID, pmtest.MAILGID)
    os.chmod(os.path.join(d, ".qmail"), 0o644)


def pid_in(d, name):
    try:
        return int(open(os.path.join(d, name)).read())
    except (OSError, ValueError):
        return 0


def alive(pid):
    try:
        st = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return st.rsplit(")", 1)[1].split()[0] != "Z"


def ql():
    return env.run(["queue-list"], check=False).stdout.decode()


for name in progs:
    t.eq(queue_add(env, "fast@example.test", [name + "@example.test"], b"Subject: to " + name.encode() + b"\n\nbody\n"),
         0, "queued for " + name)
for i in range(3):
    t.eq(queue_add(env, "someone@example.test", ["fast@example.test"], b"Subject: fast %d\n\nbody\n" % i), 0, "queued fast")

log = env.path("queue-run.log")
start = time.monotonic()
qr = env.start([pmtest.bin("queue-run"), "-l", "1", "-c", "2", "-b", "1000", "-m", "1000"], stderr=open(log, "wb"))
t.ok(wait_for(lambda: len(maildir_files(fast)) == 3, 20), "other local mail flows past the stuck programs (one slot)")
t.ok(wait_for(lambda: ql().count("delivery program timed out") == 3, 20), "three recipients deferred with the reason", ql())
out = ql()
t.ok(re.search(r"pending <slow@example.test> attempts 1 next \d+m last: 4\.\d\.\d delivery program timed out", out),
     "the endless one: pending, next try later, the reason shown", out)
t.ok(re.search(r"pending <escape@example.test> attempts 1 .*timed out", out), "the one whose child escaped: same", out)
t.ok(re.search(r"pending <closed@example.test> attempts 1 .*timed out", out), "the one that closed its stderr: same", out)
t.ok(wait_for(lambda: "<bg@example.test>" not in ql(), 10),
     "the one that exited 0 (its child killed at the limit) is delivered", ql())
t.ok(time.monotonic() - start < 30, "all within the limits, not the programs' 60 s")
for name, f in (("slow", "main.pid"), ("slow", "bg.pid"), ("bg", "bg.pid"), ("closed", "main.pid")):
    pid = pid_in(users[name], f)
    t.ok(pid and wait_for(lambda: not alive(pid), 5), "%s's %s (%d) killed with its process group" % (name, f, pid))
try:
    fds = open(os.path.join(users["closed"], "fds")).read()
except OSError:
    fds = ""
t.ok(fds.count("pipe:") == 1, "a program gets its stderr pipe as fd 2 only, no other end of it", fds)
esc = pid_in(users["escape"], "esc.pid")
t.ok(esc > 0, "the escaped child ran (%d); it holds the pipe, yet the slot was freed" % esc)
if esc and alive(esc):
    os.kill(esc, signal.SIGKILL)
t.ok("event=delivery" in open(log).read() and "timed out" in open(log).read(), "logged")
qr.terminate()
qr.wait(10)
t.done()
