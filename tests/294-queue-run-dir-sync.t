#!/usr/bin/python3
# Names queue-run makes outside its state files' group commit are synced
# into their directories (seen with strace). A job that outlives a killed
# queue-run leaves its results in state/ID.done: the file was fsync'd but
# not state/, so after a power loss the name, and the results with it,
# could be gone (those deliveries made again). A queue file set aside into
# bad/ was renamed there with no sync of bad/ or mess/ (nor of the queue
# directory when bad/ was made just then).
import os, re, signal, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, children, dir_synced

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
CALLS = "open,openat,mkdir,mkdirat,rename,renameat,renameat2,fsync,fdatasync"


def traced(env, name, argv, extra=None):
    log = env.path(name + ".trace")
    p = env.start(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + CALLS] + argv, env=extra,
                  stderr=open(env.path(name + ".log"), "wb"))
    return p, log


def calls(log, pid=None):
    out = []
    with open(log) as f:
        for l in f.read().splitlines():
            p, _, c = l.partition(" ")
            if pid is None or p == pid:
                out.append(c.strip())
    return out


def synced_at(cs, after, dirpath, every):
    """index in cs (one process's calls) of an fsync of the directory
    dirpath after index after, or None: opened by its path, or as "." of
    a descriptor some process of every opened by that path (queue-run's
    pinned ones, inherited)"""
    pins = set()
    for c in every:
        m = re.match(r'open(at)?\(.*"%s", [^)]*O_DIRECTORY.* = (\d+)$' % re.escape(dirpath), c)
        if m:
            pins.add(m.group(2))
    fds = {}
    for i, c in enumerate(cs):
        m = re.match(r'openat\((\d+), "\.", [^)]*O_DIRECTORY.* = (\d+)$', c)
        if m and m.group(1) in pins and i > after:
            fds[m.group(2)] = i
        m = re.match(r"fsync\((\d+)\)", c)
        if m and i > after and m.group(1) in fds:
            return i
    return dir_synced(cs, dirpath, after)


# 1. results left behind by a local job whose queue-run was killed
env = pmtest.Env()
env.add_user("demo@example.test", "pw")
flags = env.path("flags")   # the agent runs as the mail user: its marks go here
os.mkdir(flags)
os.chmod(flags, 0o777)
started, go = os.path.join(flags, "started"), os.path.join(flags, "go")
agent = env.path("agent")
with open(agent, "w") as f:
    f.write("#!/bin/sh\ncat >/dev/null\n: > '%s'\ni=0\nwhile [ ! -e '%s' ] && [ $i -lt 300 ]; do sleep 0.1; "
            "i=$((i+1)); done\nexit 0\n" % (started, go))
os.chmod(agent, 0o755)
st, log = traced(env, "run", [pmtest.bin("queue-run"), "-l", "1"], {"PIPEMAIL_DELIVER": agent})
mid = pmtest.queue_new(env, "x@example.org", ["demo@example.test"], b"Subject: x\n\nbody\n")
t.ok(mid, "queued")
t.ok(wait_for(lambda: os.path.exists(started), 30), "the delivery agent runs")
qr = children(st.pid)
t.eq(len(qr), 1, "strace's child: queue-run")
for c in qr:
    os.kill(c, signal.SIGKILL)
with open(go, "w"):
    pass
done = os.path.join(env.queue, "state", mid + ".done")
t.ok(wait_for(lambda: os.path.exists(done), 30), "the results are left in state/ID.done")
t.eq(st.wait(30), -signal.SIGKILL, "the job ends (and strace with it, as its queue-run did)")
cs = calls(log)
mk = [i for i, c in enumerate(cs) if re.search(r'"(.*/)?%s\.done", [^)]*O_CREAT.* = \d+$' % re.escape(mid), c)]
t.ok(mk, "state/ID.done was made", "\n".join(cs[-30:]))
pid = None
if mk:
    with open(log) as f:
        pid = [l.split(" ", 1)[0] for l in f.read().splitlines() if l.split(" ", 1)[-1].strip() == cs[mk[0]]][0]
    own = calls(log, pid)
    at = own.index(cs[mk[0]])
    s = synced_at(own, at, os.path.join(env.queue, "state"), cs)
    t.ok(s is not None, "state/ is synced after the file is made", "\n".join(own[at:]))
else:
    t.ok(False, "state/ is synced after the file is made")

# 2. a queue file set aside into bad/
env = pmtest.Env()
env.add_user("demo@example.test", "pw")
mid = pmtest.queue_unreadable(env)
t.ok(mid, "queued, then made unreadable")
bad = os.path.join(env.queue, "bad")
st, log = traced(env, "bad", [pmtest.bin("queue-run")])
t.ok(wait_for(lambda: os.path.exists(os.path.join(bad, mid)), 30), "the file is set aside")
for c in children(st.pid):
    os.kill(c, signal.SIGTERM)
t.eq(st.wait(30), 0, "queue-run stops")
cs = calls(log)
cs = [c.split(" ", 1)[1] if c[:1].isdigit() and " " in c else c for c in cs]
rn = [i for i, c in enumerate(cs) if re.match(r'rename(at2?)?\(.*"%s".* = 0$' % re.escape(mid), c)]
mk = [i for i, c in enumerate(cs) if re.match(r'mkdir(at)?\(.*"%s", .* = 0$' % re.escape(bad), c)]
t.ok(rn and mk, "bad/ made, the file renamed into it", "\n".join(cs[-30:]))
t.ok(rn and dir_synced(cs, bad, -1) is not None and dir_synced(cs, bad, -1) > rn[0],
     "bad/ synced after the rename", "\n".join(cs[rn[0] if rn else 0:]))
mess = os.path.join(env.queue, "mess")
t.ok(rn and synced_at(cs, rn[0], mess, cs) is not None, "mess/ synced after the rename: the file's old name gone",
     "\n".join(cs[rn[0] if rn else 0:]))
t.ok(mk and rn and dir_synced(cs, env.queue, mk[0]) is not None, "the queue directory synced: bad/'s own name",
     "\n".join(cs[mk[0] if mk else 0:]))
t.done()
