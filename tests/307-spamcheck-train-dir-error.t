#!/usr/bin/python3
# spamcheck training, listing and -L from a folder that cannot be read to
# its end (getdents failing with EIO: a bad disk, a stale NFS handle).
# readdir's NULL was taken for the end of the directory, so the folder
# looked shorter (or empty) and the run exited 0: "spamcheck -Ns folder"
# reported a correction it never made, -l listed nothing and succeeded.
# Now it is a failure (exit 111, the database unchanged); without the
# fault the same runs succeed.
import hashlib, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
sc = pmtest.bin("spamcheck")
if not os.access(sc, os.X_OK):
    t.skip_all("spamcheck not built")
if not pmtest.strace_usable():
    t.skip_all("strace not usable here")
s = pmtest.Scratch()
db = s.path("sc.db")
md = s.path("md")
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(md, sub))
msg = b"Subject: cheap pills\nFrom: a@example.org\n\nBuy cheap pills now at pills.example.\n"
for i, sub in enumerate(("new", "cur")):
    with open(os.path.join(md, sub, "m%d" % i), "wb") as f:
        f.write(msg)
plain = s.path("plain")   # a folder that is not a Maildir
os.makedirs(plain)
with open(os.path.join(plain, "m"), "wb") as f:
    f.write(msg)


def run(argv, fault):
    pre = ["strace", "-f", "-o", "/dev/null", "-e", "inject=getdents64:error=EIO:when=%s" % fault] if fault else []
    p = subprocess.run(pre + [sc, "-d", db] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def digest():
    with open(db, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


rc, _, err = run(["-n", md], None)
t.eq(rc, 0, "learnt the folder as ham")
before = digest()
# when=1: the first directory read (new/) fails, cur/ would still be read;
# 1+: every read fails
for fault in ("1", "1+"):
    for argv, what in ((["-Ns", md], "-Ns Maildir"), (["-s", plain], "-s folder")):
        rc, _, err = run(argv, fault)
        t.eq(rc, 111, "%s, getdents EIO (when=%s): exit 111" % (what, fault))
        t.ok("Input/output error" in err, "%s (when=%s): says why" % (what, fault), err)
        t.eq(digest(), before, "%s (when=%s): the database is unchanged" % (what, fault))
    rc, out, err = run(["-l", md], fault)
    t.eq(rc, 111, "-l Maildir, getdents EIO (when=%s): exit 111" % fault)
    rc, _, err = run(["-L", md, plain], fault)
    t.eq(rc, 111, "-L, getdents EIO (when=%s): exit 111" % fault)
    t.eq(digest(), before, "-L (when=%s): the database is unchanged" % fault)
# the same without the fault
rc, _, err = run(["-Ns", md], None)
t.eq(rc, 0, "-Ns Maildir without the fault: exit 0")
t.ok("messages=2 " in err, "both messages corrected", err)
rc, out, err = run(["-l", md], None)
t.eq(rc, 0, "-l without the fault: exit 0")
t.eq(len(out.splitlines()), 2, "-l lists both messages")
t.done()
