#!/usr/bin/python3
# THREATS I2/I3 for queue-run's own local delivery (in process, lib/
# maildeliver, not deliver-maildir: test 14 covers that one): a Maildir
# that cannot take the message right now (tmp/ or new/ not writable by the
# user, new/'s fsync failing with EIO, a file size limit, a full disk, a
# read-only file system) defers the recipient. Never a bounce, never a
# message lost or half in new/: the message stays queued with a 4.x.x
# reason, nothing is left in the Maildir, and once the fault is gone a
# retry delivers exactly one whole copy.
import os, resource, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("s@example.test", "pw")   # a bounce would land here
BIG = b"Subject: big\n\n" + (b"y" * 78 + b"\n") * 2000   # 160 KB
n = [0]
ROOT = os.getuid() == 0


def qr_log(i):
    return env.path("qr%d.log" % i)


def stop(p):
    """stop queue-run, also when it runs under a wrapper (strace)"""
    for c in pmtest.children(p.pid):
        try:
            os.kill(c, 15)
        except OSError:
            pass
    if p.poll() is None:
        p.terminate()
    p.wait(20)


def case(name, why, wrap=(), setup=None, undo=None, msg=b"Subject: fault\n\nhello\n", preexec=None):
    """queue one message to a fresh user while queue-run runs under wrap
    (argv prefix) with setup() done to the user's Maildir; check it is
    deferred, then undo() and deliver it with a plain queue-run"""
    n[0] += 1
    i = n[0]
    addr = "u%d@example.test" % i
    md = env.add_user(addr, "pw")
    if setup:
        setup(md)
    before = set(queue_files(env))
    t.eq(queue_add(env, "s@example.test", [addr], msg), 0, name + ": queued")
    ids = set(queue_files(env)) - before
    log = open(qr_log(i), "wb")
    qr = env.start(list(wrap) + [pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log, preexec_fn=preexec)
    text = pmtest.log_reader(qr_log(i))
    tried = wait_for(lambda: "rcpt=%s channel=local status=" % addr in text(), 30)
    # the Maildir as queue-run sees it (its mount namespace, for the tmpfs cases)
    look = "/proc/%d/root%s" % (qr.pid, md)
    left = (sorted(os.listdir(look + "/new")), sorted(os.listdir(look + "/tmp")))
    stop(qr)
    log.close()
    lines = [ln for ln in text().splitlines() if "rcpt=%s " % addr in ln and "event=delivery" in ln]
    t.ok(tried and lines and all("status=temp dsn=4." in ln for ln in lines),
         name + ": every attempt is a temporary failure (4.x.x)", text()[-600:])
    t.ok(lines and why in lines[0], name + ": the reason names the fault (" + why + ")", lines[:1])
    t.eq(left, ([], []), name + ": nothing in new/, tmp/ empty")
    t.eq(set(queue_files(env)) & ids, ids, name + ": the message is still queued")
    t.eq([f for f in maildir_files(snd) if b"multipart/report" in open(f, "rb").read()], [],
         name + ": no bounce to the sender")
    if undo:
        undo(md)
    log = open(qr_log(i), "ab")
    qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log)
    pmtest.queue_retry(env, sorted(ids))
    got = wait_for(lambda: maildir_files(md) and not (set(queue_files(env)) & ids) and maildir_files(md), 30)
    stop(qr)
    log.close()
    t.eq(len(got or []), 1, name + ": after the fault, one copy delivered")
    if got:
        t.ok(open(got[0], "rb").read().endswith(msg), name + ": the copy is whole")


def chmod(sub, mode):
    return lambda md: os.chmod(os.path.join(md, sub), mode)


case("tmp/ not writable", "Permission denied", setup=chmod("tmp", 0o500), undo=chmod("tmp", 0o700))
case("new/ not writable", "Permission denied", setup=chmod("new", 0o500), undo=chmod("new", 0o700))
case("file size limit (EFBIG)", "File too large", msg=BIG,
     preexec=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)))

if pmtest.strace_usable():
    # the fsync of new/ (after the link) fails: the name is not known to be durable
    nth = n[0] + 1
    case("fsync of new/ fails EIO", "Input/output error", wrap=["strace", "-f", "-o", "/dev/null", "-P",
                                          env.path("mail", "u%d@example.test" % nth, "new"),
                                          "-e", "trace=fsync", "-e", "inject=fsync:error=EIO"])
else:
    t.diag("strace unusable here: EIO case skipped")

# a real full disk and a read-only file system: the user's Maildir is a
# tmpfs in a private mount namespace that queue-run runs in; after it
# ends, the Maildir beneath (empty, writable) is there for the retry
probe = subprocess.run(["unshare", "-m", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if ROOT else None
if not ROOT or probe.returncode != 0:
    t.diag("no private mount namespace as root: tmpfs cases skipped")
else:
    for name, why, extra, msg in (("disk full (64 KB tmpfs)", "No space left", "", BIG),
                                  ("read-only file system", "Read-only file system", " && mount -o remount,ro \"$M\"",
                                   b"Subject: ro\n\nhello\n")):
        nth = n[0] + 1
        md = env.path("mail", "u%d@example.test" % nth)
        script = ('M=%s; mount -t tmpfs -o size=64k,mode=700,uid=%d,gid=%d tmpfs "$M" && mkdir "$M/tmp" "$M/new" "$M/cur"'
                  ' && chown %d:%d "$M/tmp" "$M/new" "$M/cur" && chmod 700 "$M/tmp" "$M/new" "$M/cur"%s && exec "$@"'
                  % (md, pmtest.MAILUID, pmtest.MAILGID, pmtest.MAILUID, pmtest.MAILGID, extra))
        case(name, why, wrap=["unshare", "-m", "sh", "-c", script, "sh"], msg=msg)
t.done()
