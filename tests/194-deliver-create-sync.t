#!/usr/bin/python3
# deliver-maildir -c makes a missing Maildir (and -f's folder). new/ synced
# after the link makes the message's name durable, but not new/'s own name
# in the Maildir, nor the Maildir's in its parent: a crash after exit 0
# could lose the directories and the message with them. Each directory
# made is now synced in its parent before the delivery goes on (seen with
# strace); a Maildir that is already there costs no extra sync.
import os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import dir_synced

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Scratch()
os.chmod(env.dir, 0o777)   # the user (after -u) makes the Maildir here
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
CALLS = "mkdir,mkdirat,openat,open,fsync,fdatasync,link,linkat,exit_group"
n = [0]


def trace(md, *opts, cwd=None):
    n[0] += 1
    log = env.path("strace.%d" % n[0])
    r = subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + CALLS] + pmtest.deliver_argv(md, *opts),
                       input=b"Subject: made\r\n\r\nbody\r\n", env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, cwd=cwd)
    with open(log) as f:
        return r.returncode, [l.split(None, 1)[1] if l[:1].isdigit() else l for l in f.read().splitlines()]


def last(calls, pattern):
    idx = [i for i, c in enumerate(calls) if re.search(pattern, c)]
    return idx[-1] if idx else None


def check(name, md, parent, *opts, cwd=None, sub=None):
    rc, calls = trace(md, *opts, cwd=cwd)
    t.eq(rc, 0, name + ": delivered")
    mk = last(calls, r"^mkdir(at)?\(.* = 0$")
    ex = last(calls, r"^exit_group\(0\)")
    lk = last(calls, r"^link(at)?\(.*/new/.* = 0$")
    t.ok(mk is not None and ex is not None and lk is not None, name + ": directories made, message linked",
         "\n".join(calls[-20:]))
    if None in (mk, ex, lk):
        return
    target = sub or md
    a = dir_synced(calls, target, mk)
    b = dir_synced(calls, parent, mk)
    t.ok(a is not None and a < lk, name + ": the made directory synced (its tmp/ new/ cur/ names), before the link",
         "\n".join(calls[mk:ex + 1]))
    t.ok(b is not None and b < lk, name + ": its parent synced (its own name), before the link",
         "\n".join(calls[mk:ex + 1]))


md = env.path("Maildir")
check("a new Maildir", md, env.dir, "-c")
md2 = env.path("Maildir2")
pmtest.mailbox(md2)
check("a new folder in a Maildir that is there", md2, md2, "-c", "-f", "Junk", sub=md2 + "/.Junk")
check("a relative path with a trailing slash", "rel/", ".", "-c", cwd=env.dir, sub="rel/")

# the usual delivery: a Maildir that is there costs no sync but new/'s
rc, calls = trace(md, "-c")
t.eq(rc, 0, "an existing Maildir: delivered")
isdir, dsyncs = {}, []
for c in calls:   # what each descriptor is at each fsync (numbers are reused)
    m = re.match(r'open(at)?\(.* = (\d+)$', c)
    if m:
        isdir[m.group(2)] = "O_DIRECTORY" in c
    m = re.match(r"fsync\((\d+)\)", c)
    if m and isdir.get(m.group(1)):
        dsyncs.append(c)
t.eq(len(dsyncs), 1, "an existing Maildir: one directory sync, new/'s")
t.done()
