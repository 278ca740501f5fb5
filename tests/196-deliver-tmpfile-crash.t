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
import os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

no_crash = pmtest.crash_namespace()   # returns here in a mount namespace of its own, or says why not
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

# 2. a crash right after exit 0, on ext4 without a journal (tests/pmtest.py's CrashFS)
if no_crash:
    t.diag("the crash is not simulated: " + no_crash)
    t.done()
fs = pmtest.CrashFS(env.path("fs"), journal=False)
md = pmtest.mailbox(fs.mnt + "/md")
# files made first put the message's inode in another inode-table block
# than new/'s, whose sync would otherwise write it by chance
os.mkdir(fs.mnt + "/filler")
for i in range(40):
    with open(fs.mnt + "/filler/f%d" % i, "w") as f:
        f.write("x\n")
fs.settle()
r = subprocess.run(pmtest.deliver_argv(md), input=MSG % b"crash", env=ENV, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
t.eq(r.returncode, 0, "delivered on the image")
at, rc, text = fs.crash()
got = pmtest.maildir_texts(at + "/md")
t.ok(len(got) == 1 and b"Subject: crash" in got[0], "after a crash right after exit 0 and fsck, the message is in new/",
     "\n".join(pmtest.fsck_lost(text)))
t.ok("deleted/unused inode" not in text, "fsck found no entry to a deleted inode", text[-600:])
t.done()
