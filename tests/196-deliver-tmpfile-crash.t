#!/usr/bin/python3
# An unnamed (O_TMPFILE) delivery file is fsync'd before its link into
# new/, while it has no link: that fsync writes its inode with a link
# count of 0. With a journal the link's own transaction, synced with new/,
# writes the inode again; without one (ext2, ext4 -O ^has_journal, as on
# the machine this was found on) nothing did before exit 0, and after a
# crash fsck took the inode for a deleted file and cleared the message's
# entry in new/: mail lost after exit 0. The file is now fsync'd again
# after the link. Seen two ways: the system calls (strace), and a crash
# simulated on a journal-less ext4 image (the image copied as the loop
# device left it, right after exit 0, then e2fsck -fy on the copy).
import os, re, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
MSG = b"Subject: %s\r\n\r\nbody\r\n"

# 1. the order, in the system calls
if pmtest.strace_usable():
    md = pmtest.mailbox(env.path("Maildir"))
    log = env.path("strace.log")
    r = subprocess.run(["strace", "-f", "-qq", "-o", log, "-e", "trace=openat,fsync,linkat,link,exit_group"] +
                       pmtest.deliver_argv(md), input=MSG % b"order", env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    calls = [l.split(None, 1)[1] if l[:1].isdigit() else l for l in open(log).read().splitlines()]
    t.eq(r.returncode, 0, "delivered")
    o = [i for i, c in enumerate(calls) if "O_TMPFILE" in c and re.search(r"= \d+$", c)]
    if not o:
        t.diag("no O_TMPFILE here: the named tmp/ file was used")
        t.ok(True, "no unnamed file, nothing to check")
    else:
        fd = re.search(r"= (\d+)$", calls[o[0]]).group(1)
        lk = [i for i, c in enumerate(calls) if re.match(r'linkat\(.*"/proc/self/fd/%s".*/new/.* = 0' % fd, c)]
        ex = [i for i, c in enumerate(calls) if c.startswith("exit_group(0)")]
        after = [i for i, c in enumerate(calls) if c.startswith("fsync(%s)" % fd) and lk and i > lk[0]]
        t.ok(lk and ex and after and after[0] < ex[0], "the unnamed file is fsync'd again after its link, before exit 0",
             "\n".join(calls[-12:]))
else:
    t.diag("strace unusable here: the system call order is not checked")

# 2. a crash right after exit 0, on ext4 without a journal
tools = all(shutil.which(x) for x in ("mkfs.ext4", "e2fsck", "debugfs", "unshare", "mount"))
if os.getuid() != 0 or not tools or not os.path.exists("/dev/loop-control"):
    t.diag("not root, or no loop devices or e2fsprogs: the crash is not simulated")
    t.done()
    sys.exit(0)
img, snap, mnt = env.path("img"), env.path("snap"), env.path("mnt")
os.mkdir(mnt)
deliver = " ".join(pmtest.deliver_argv(mnt + "/md"))
# in a mount namespace of its own: the mount (and its loop device, with
# autoclear) goes when the shell ends, however it ends. Files made first
# put the message's inode in another inode-table block than new/'s, whose
# sync would otherwise write it by chance.
script = """set -e
truncate -s 32M {img}
mkfs.ext4 -q -F -O ^has_journal {img}
mount -o loop {img} {mnt}
mkdir -p {mnt}/md/tmp {mnt}/md/new {mnt}/md/cur {mnt}/filler
for i in $(seq 1 40); do echo x > {mnt}/filler/f$i; done
chown -R {u}:{g} {mnt}/md
sync
set +e
printf 'Subject: crash\\r\\n\\r\\nbody\\r\\n' | {deliver} 2>/dev/null
echo rc=$?
cp {img} {snap}
ls {mnt}/md/new
umount {mnt}
""".format(img=img, snap=snap, mnt=mnt, u=pmtest.MAILUID, g=pmtest.MAILGID, deliver=deliver)
r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   timeout=120)
out = r.stdout.decode().split()
if r.returncode != 0 or "rc=0" not in out:
    t.diag("the journal-less ext4 image could not be used: " + r.stderr.decode()[-300:])
    t.done()
    sys.exit(0)
name = out[out.index("rc=0") + 1] if len(out) > out.index("rc=0") + 1 else ""
fsck = subprocess.run(["e2fsck", "-fy", snap], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
text = fsck.stdout.decode(errors="replace")
got = subprocess.run(["debugfs", "-R", "cat /md/new/" + name, snap], stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, timeout=60).stdout
t.ok(name and b"Subject: crash" in got, "after a crash right after exit 0 and fsck, the message is in new/",
     "\n".join(l for l in text.splitlines() if "Entry" in l or "inode" in l))
t.ok("deleted/unused inode" not in text, "fsck found no entry to a deleted inode", text[-600:])
t.done()
