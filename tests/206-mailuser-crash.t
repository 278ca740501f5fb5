#!/usr/bin/python3
# mailuser's rebuilds of users.cdb and aliases.cdb (lib/conf.c
# conf_compile_src: the new database written, fsync'd, renamed into
# place, the control directory synced) under a power loss: a crash at any
# moment leaves the old database or the new one, whole, never an empty or
# torn one (an empty users.cdb would refuse every recipient 550 5.1.1,
# mail lost in effect). mailuser add, alias add and del run with each
# fsync slowed (strace), while the image is copied (tests/pmtest.py's
# CrashFS) every few tens of milliseconds, and once more after each exit
# 0. Each copy, fsck'd: both databases read whole (cdb -d), each holds
# exactly the keys from before or from after the change, and an address
# that was there all along is still a local recipient (mailuser check on
# the copy). On ext4 without a journal and with one.
import os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.crash_tap()   # from here on in a mount namespace of its own
if not shutil.which("cdb"):
    t.skip_all("no cdb(1) (tinycdb) to read the databases with")
env = pmtest.Env()
slow = pmtest.strace_usable()
if not slow:
    t.diag("strace unusable here: copies only after each exit 0")


def cdb_keys(path):
    """the keys of a cdb file, or None if cdb(1) cannot read it whole"""
    r = subprocess.run(["cdb", "-d", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    if r.returncode != 0 or not os.path.exists(path):
        return None
    keys, b = set(), r.stdout
    while b and b != b"\n":
        head, _, rest = b.partition(b":")
        kl, dl = (int(x) for x in head[1:].split(b","))
        keys.add(rest[:kl])
        b = rest[kl + 2 + dl + 1:]
    return keys


def differ(keys, allowed, i):
    """how keys differ from the last allowed set"""
    if keys is None:
        return "unreadable"
    want = allowed[-1][i]
    return "missing %s, extra %s" % (sorted(want - keys), sorted(keys - want))


def mailuser(argv, conf, stdin=None, slowly=False):
    e = dict(env.env, PIPEMAIL_CONF=conf)
    pre = ["strace", "-f", "-o", "/dev/null", "-e", "inject=fsync:delay_enter=150000"] if slowly else []
    return subprocess.Popen(pre + [pmtest.bin("mailuser")] + argv, env=e, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def user_add(addr):
    """mailuser's argv to add addr, its Maildir outside the image"""
    return ["add", "-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID), "-d", env.path("mail", addr.decode()),
            addr.decode()]


def addrs(n):
    return [b"u%02d@example.test" % i for i in range(n)]


for journal in (False, True):
    kind = "with a journal" if journal else "without a journal"
    fs = pmtest.CrashFS(env.path("fs%d" % journal), journal=journal, size_mb=16)
    conf = fs.mnt + "/conf"
    os.mkdir(conf)
    shutil.copy(os.path.join(env.conf, "me"), conf)
    setup = [["domain", "add", "example.test"]] + [user_add(a) for a in addrs(12)] + \
        [["alias", "add", "list@example.test", "u00@example.test", "u01@example.test"]]
    for argv in setup:
        p = mailuser(argv, conf)
        p.communicate(b"pw\n", timeout=60)
    fs.settle()
    users, aliases = set(addrs(12)), {b"list@example.test"}
    # each change: its argv, then the keys of users.cdb and aliases.cdb after it
    changes = [(user_add(b"u12@example.test"), users | {b"u12@example.test"}, aliases),
               (["alias", "add", "team@example.test", "u02@example.test"], users | {b"u12@example.test"},
                aliases | {b"team@example.test"}),
               (["del", "u05@example.test"], (users | {b"u12@example.test"}) - {b"u05@example.test"},
                aliases | {b"team@example.test"})]
    copies, bad, codes = [], [], []
    before = (users, aliases)
    for argv, u_after, a_after in changes:
        p = mailuser(argv, conf, slowly=slow)
        p.stdin.write(b"pw\n")
        p.stdin.close()
        end = time.monotonic() + 20
        while p.poll() is None and time.monotonic() < end:
            copies.append((fs.snapshot(), [before, (u_after, a_after)], " ".join(argv[:2]) + " (running)"))
            time.sleep(0.04)
        codes.append(p.wait(20))
        copies.append((fs.snapshot(), [(u_after, a_after)], " ".join(argv[:2]) + " (after exit 0)"))
        before = (u_after, a_after)
    t.eq(codes, [0, 0, 0], "%s: each change made" % kind)
    t.diag("%s: %d copies" % (kind, len(copies)))
    for snap, allowed, when in copies:
        rc, text = fs.fsck(snap)
        if rc not in (0, 1):
            continue
        at = fs.mount(snap)
        got = (cdb_keys(at + "/conf/users.cdb"), cdb_keys(at + "/conf/aliases.cdb"))
        if got not in allowed:
            bad.append("%s: users.cdb %s, aliases.cdb %s; fsck: %s" % (when, differ(got[0], allowed, 0),
                       differ(got[1], allowed, 1), pmtest.fsck_lost(text)))
        r = subprocess.run([pmtest.bin("mailuser"), "check", "u00@example.test"], env=dict(env.env, PIPEMAIL_CONF=at +
                           "/conf"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            bad.append("%s: u00 no longer a local recipient: %s" % (when, r.stderr.decode(errors="replace")))
        fs.unmount(at)
        os.unlink(snap)
    t.ok(not bad, "%s: every copy holds the old databases or the new ones, whole" % kind, "\n".join(bad))
    fs.fsck_verdicts(t, kind)
t.done()
