#!/usr/bin/python3
# The durability protocol, seen in the system calls (strace): the message is
# written to a file in tmp/ (a named one, or an unnamed O_TMPFILE one where
# the file system has them), that file is fsync'd, then link(2)ed into new/
# (never renamed onto a name), then new/ is fsync'd, and only then does the
# process exit 0. A tmp/ name is removed; tmp/ is left empty. A folder
# delivery fsyncs the folder's new/.
import os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace unusable here")
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
CALLS = "openat,open,write,fsync,fdatasync,link,linkat,rename,renameat,renameat2,unlink,unlinkat,close,exit_group"


def trace(md, *opts):
    log = env.path("strace.%d" % len(os.listdir(env.dir)))
    r = subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=" + CALLS] + pmtest.deliver_argv(md, *opts),
                       input=b"Subject: order\r\n\r\nbody\r\n", env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    with open(log) as f:
        return r.returncode, [l.split(None, 1)[1] if l[:1].isdigit() else l for l in f.read().splitlines()]


def check(name, md, target, *opts):
    rc, calls = trace(md, *opts)
    t.eq(rc, 0, name + ": delivered")
    idx = {}

    def find(key, pattern, after=-1):
        for i, c in enumerate(calls):
            if i > after and re.search(pattern, c):
                idx[key] = i
                return i
        idx[key] = None
        return None

    o = find("open", r'open(at)?\(.*"%s/tmp(/[^"]+", O_WRONLY\|O_CREAT\|O_EXCL|", O_RDWR\|O_CLOEXEC\|O_TMPFILE).* = (\d+)'
             % re.escape(target))
    fd = re.search(r"= (\d+)$", calls[o]).group(1) if o is not None else "?"
    anon = o is not None and "O_TMPFILE" in calls[o]
    src = r'"/proc/self/fd/%s"' % fd if anon else r'"%s/tmp/' % re.escape(target)
    w = find("write", r"^write\(%s, " % fd, o if o is not None else -1)
    s = find("fsync", r"^f(data)?sync\(%s\)" % fd, w if w is not None else -1)
    l = find("link", r'^link(at)?\(.*%s.*"%s/new/[^"]+,S=\d+,W=\d+".* = 0' % (src, re.escape(target)),
             s if s is not None else -1)
    d = find("dopen", r'open(at)?\(.*"%s/new", .*O_DIRECTORY.* = (\d+)' % re.escape(target), l if l is not None else -1)
    dfd = re.search(r"= (\d+)$", calls[d]).group(1) if d is not None else "?"
    ds = find("dsync", r"^fsync\(%s\)" % dfd, d if d is not None else -1)
    u = find("unlink", r'^unlink(at)?\(.*"%s/tmp/' % re.escape(target), l if l is not None else -1)
    e = find("exit", r"^exit_group\(0\)")
    t.ok(None not in (o, w, s, l, d, ds, e), name + ": create in tmp/, write, fsync, link into new/, fsync new/, exit",
         "\n".join(calls[-25:]))
    if None not in (o, w, s, l, d, ds, e):
        t.ok(o < w < s < l < d < ds < e, name + ": in that order", idx)
    if anon:
        t.ok(u is None, name + ": an unnamed file: no tmp/ name to remove")
    else:
        t.ok(u is not None and u < e, name + ": the tmp/ name is removed before exit")
    t.eq(os.listdir(target + "/tmp"), [], name + ": tmp/ empty")
    t.ok(not any(re.match(r'rename(at2?)?\(.*/new/', c) for c in calls), name + ": nothing is renamed into new/")


md = pmtest.mailbox(env.path("Maildir"), folders=("Junk",))
check("inbox", md, md)
check("folder", md, md + "/.Junk", "-f", "Junk")
t.done()
