#!/usr/bin/python3
# deliver-maildir under faults: disk full (a 64 KB tmpfs in a private mount
# namespace, and ENOSPC/EDQUOT injected with strace), fsync of the file or
# of new/ failing with EIO, link failing, a file size limit (EFBIG), a
# read-only file system and a read-only Maildir: each gives 111 with one
# line on stderr, nothing in new/ and the tmp/ file removed.
import os, resource, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
MSG = b"Subject: fault\r\n\r\n" + b"x" * 76 + b"\r\n" * 1
BIG = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 2000   # 160 KB
n = [0]


def fresh():
    n[0] += 1
    return pmtest.mailbox(env.path("md%d" % n[0]))


def run(argv, data, preexec=None):
    r = subprocess.run(argv, input=data, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=60, preexec_fn=preexec)
    return r.returncode, r.stderr.decode(errors="replace")


def clean(md):
    return os.listdir(md + "/new") == [] and os.listdir(md + "/tmp") == []


def expect_111(name, md, argv, data=MSG, preexec=None, quiet_ok=False):
    rc, err = run(argv, data, preexec)
    t.eq(rc, 111, name + ": exit 111")
    t.ok(clean(md), name + ": nothing in new/, tmp/ empty",
         (os.listdir(md + "/new"), os.listdir(md + "/tmp")))
    if not quiet_ok:
        t.ok(err.startswith("deliver-maildir: fatal: unable to ") and err.count("\n") == 1,
             name + ": one fatal line", err)


have_strace = pmtest.strace_usable()


def strace(inject):
    return ["strace", "-f", "-o", "/dev/null", "-e", "inject=" + inject]


if have_strace:
    # stderr is written with write(2) too, so the message may be lost: only the code and the files count
    for err in ("ENOSPC", "EDQUOT", "EIO"):
        md = fresh()
        expect_111("write fails " + err, md, strace("write:error=" + err) + pmtest.deliver_argv(md), quiet_ok=True)
    md = fresh()
    expect_111("fsync of the file fails EIO", md, strace("fsync:error=EIO:when=1") + pmtest.deliver_argv(md))
    md = fresh()
    expect_111("the second fsync fails EIO (an unnamed file's after its link, or new/)", md,
               strace("fsync:error=EIO:when=2") + pmtest.deliver_argv(md))
    md = fresh()
    expect_111("fsync of new/ fails EIO", md, ["strace", "-f", "-o", "/dev/null", "-P", md + "/new", "-e", "trace=fsync",
                                              "-e", "inject=fsync:error=EIO"] + pmtest.deliver_argv(md))
    md = fresh()
    expect_111("link into new/ fails EIO", md, strace("link,linkat:error=EIO") + pmtest.deliver_argv(md))
    # an unnamed O_TMPFILE file whose link through /proc is refused is
    # copied into a named tmp/ file and delivered the usual way
    md = fresh()
    rc, _ = run(strace("linkat:error=EPERM:when=1") + pmtest.deliver_argv(md), MSG)
    t.ok(rc == 0 and len(os.listdir(md + "/new")) == 1 and os.listdir(md + "/tmp") == [],
         "the unnamed file's link refused: delivered all the same, tmp/ empty")
    md = fresh()
    rc, _ = run(strace("fsync:error=EIO:when=4") + pmtest.deliver_argv(md), MSG)
    t.ok(rc == 0 and len(os.listdir(md + "/new")) == 1, "a fault after the commit does not matter (control)")
else:
    t.diag("strace unusable here: injected faults skipped")

# a file size limit: EFBIG (SIGXFSZ is ignored)
md = fresh()
expect_111("file size limit (EFBIG)", md, pmtest.deliver_argv(md), BIG,
           preexec=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)))

# a read-only Maildir (the owner lacks write permission)
md = fresh()
os.chmod(md + "/tmp", 0o500)
expect_111("read-only tmp/", md, pmtest.deliver_argv(md))
os.chmod(md + "/tmp", 0o700)
os.chmod(md + "/new", 0o500)
expect_111("read-only new/", md, pmtest.deliver_argv(md))
os.chmod(md + "/new", 0o700)

# real disk full and a read-only file system: a tmpfs in a private mount namespace
mnt = env.path("mnt")
os.mkdir(mnt)
ns = ["unshare", "-m"] if os.getuid() == 0 else ["unshare", "-Urm"]
probe = subprocess.run(ns + ["sh", "-c", "mount -t tmpfs -o size=64k tmpfs " + mnt],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if probe.returncode != 0 or (os.getuid() != 0):
    # without real root the dropped uid does not exist in a user namespace
    t.diag("no private mount namespace as root: tmpfs cases skipped")
else:
    deliver = " ".join(pmtest.deliver_argv(mnt + "/Maildir"))
    setup = ("mount -t tmpfs -o size=64k,mode=755 tmpfs {m} && mkdir -p {m}/Maildir/tmp {m}/Maildir/new {m}/Maildir/cur"
             " && chown -R {u}:{g} {m}/Maildir").format(m=mnt, u=pmtest.MAILUID, g=pmtest.MAILGID)
    check = "; echo rc=$?; ls -A {m}/Maildir/new {m}/Maildir/tmp | tr '\\n' ' '".format(m=mnt)
    for name, extra, data in (("disk full (64 KB tmpfs)", "", BIG),
                              ("read-only file system", " && mount -o remount,ro " + mnt, MSG)):
        r = subprocess.run(ns + ["sh", "-c", setup + extra + " && " + deliver + check], input=data, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out = r.stdout.decode()
        t.ok("rc=111" in out, name + ": exit 111", out + r.stderr.decode())
        t.eq(out.split("rc=111")[-1].split(), [mnt + "/Maildir/new:", mnt + "/Maildir/tmp:"],
             name + ": nothing in new/, tmp/ empty")
        t.eq(r.stderr.decode().count("fatal: unable to "), 1, name + ": one fatal line")
    # the same tmpfs with room: the message fits (control)
    r = subprocess.run(ns + ["sh", "-c", setup + " && " + deliver + check], input=MSG, env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    t.ok("rc=0" in r.stdout.decode(), "control: a small message fits the tmpfs", r.stdout.decode())
t.done()
