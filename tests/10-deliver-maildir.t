#!/usr/bin/python3
# deliver-maildir: envelope headers, CR/LF in the envelope, CRLF -> LF with
# every other byte kept, ,S= and ,W= in the name, loop, folders, and the
# exit code of every failure path.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ROOT = os.getuid() == 0


def run(argv, data, **envvars):
    e = pmtest.deliver_env()
    e.update(envvars)
    r = subprocess.run(argv, input=data, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stderr.decode(errors="replace")


def files(md, sub="new"):
    d = os.path.join(md, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def only(md, sub="new"):
    f = files(md, sub)
    if len(f) != 1:
        return None, None
    with open(os.path.join(md, sub, f[0]), "rb") as fh:
        return f[0], fh.read()


ENV = {"SENDER": "alice@example.org", "RECIPIENT": "bob@example.test"}

# --- a plain delivery
md = pmtest.mailbox(env.path("m1"))
msg = b"Subject: hello\r\nX: y\r\n\r\nline 1\r\nbare\rCR and bare\nLF\r\n\x00\x01\xff end\r\n"
rc, err = run(pmtest.deliver_argv(md), msg, **ENV)
t.eq(rc, 0, "delivery exits 0")
name, got = only(md)
want = (b"Return-Path: <alice@example.org>\nDelivered-To: bob@example.test\n"
        b"Subject: hello\nX: y\n\nline 1\nbare\rCR and bare\nLF\n\x00\x01\xff end\n")
t.eq(got, want, "Return-Path and Delivered-To on top, CRLF -> LF, every other byte kept")
t.ok(name and ",S=%d," % len(want) in name, "name carries ,S=<size>", name)
t.ok(name and name.endswith(",W=%d" % (len(want) + want.count(b"\n"))), "name carries ,W=<size with CRLF>", name)
t.eq(files(md, "tmp"), [], "tmp/ is empty afterwards")
t.ok("event=delivered" in err and "size=%d" % len(want) in err, "one log line on success", err)
if name:
    st = os.stat(os.path.join(md, "new", name))
    t.eq((st.st_uid, st.st_mode & 0o777), (pmtest.MAILUID, 0o600), "file belongs to the mailbox owner, mode 0600")

# --- a message without a final newline and an empty message
md = pmtest.mailbox(env.path("m2"))
run(pmtest.deliver_argv(md), b"Subject: x\n\nno newline\r", **ENV)
t.eq(only(md)[1], b"Return-Path: <alice@example.org>\nDelivered-To: bob@example.test\nSubject: x\n\nno newline\n",
     "a last line without LF is ended; a final bare CR becomes its end")
md = pmtest.mailbox(env.path("m2b"))
run(pmtest.deliver_argv(md), b"Subject: x\n\nno newline", **ENV)
name, got = only(md)
t.ok(got and got.endswith(b"no newline\n") and name.endswith(",W=%d" % (len(got) + got.count(b"\n"))),
     "no final newline: one added, counted in ,W=", name)
md = pmtest.mailbox(env.path("m3"))
rc, _ = run(pmtest.deliver_argv(md), b"", **ENV)
t.eq((rc, only(md)[1]), (0, b"Return-Path: <alice@example.org>\nDelivered-To: bob@example.test\n"), "empty message: just the two lines")

# --- envelope values cannot add header lines
md = pmtest.mailbox(env.path("m4"))
rc, _ = run(pmtest.deliver_argv(md), b"Subject: x\n\nb\n", SENDER="a@b\r\nX-Evil: 1", RECIPIENT="c@d\nBcc: e@f")
got = only(md)[1] or b""
t.eq(got.split(b"\n")[:3], [b"Return-Path: <a@b__X-Evil: 1>", b"Delivered-To: c@d_Bcc: e@f", b"Subject: x"],
     "CR/LF in SENDER and RECIPIENT become '_'")

# --- DTLINE wins over RECIPIENT (qmail-local sets it with a newline); empty sender; no sender
md = pmtest.mailbox(env.path("m5"))
run(pmtest.deliver_argv(md), b"S: 1\n\nb\n", SENDER="", RECIPIENT="x@y", DTLINE="Delivered-To: ext-x@y\n")
t.eq((only(md)[1] or b"").split(b"\n")[:2], [b"Return-Path: <>", b"Delivered-To: ext-x@y"], "DTLINE used as is; null sender <>")
md = pmtest.mailbox(env.path("m6"))
run(pmtest.deliver_argv(md), b"S: 1\n\nb\n")
t.eq(only(md)[1], b"S: 1\n\nb\n", "no SENDER/RECIPIENT/DTLINE: no lines added")

# --- loop: our own Delivered-To in the header -> 100, nothing delivered
md = pmtest.mailbox(env.path("m7"))
rc, err = run(pmtest.deliver_argv(md), b"Received: x\nDelivered-To:   BOB@Example.TEST \nSubject: x\n\nb\n", **ENV)
t.eq((rc, files(md), files(md, "tmp")), (100, [], []), "own Delivered-To (case, blanks differ) -> 100, nothing left")
t.ok("loop" in err and err.count("\n") == 1, "one line says mail loop", err)
rc, _ = run(pmtest.deliver_argv(md), b"Delivered-To: bob@example.test\r\n\r\n", **ENV)
t.eq(rc, 100, "loop detected with CRLF header")
rc, _ = run(pmtest.deliver_argv(md), b"Subject: x\n\nDelivered-To: bob@example.test\n", **ENV)
t.eq(rc, 0, "the same line in the body is not a loop")
rc, _ = run(pmtest.deliver_argv(md), b"Delivered-To: other@example.test\nX-Delivered-To: bob@example.test\n\nb\n", **ENV)
t.eq(rc, 0, "another Delivered-To, or a look-alike field, is not a loop")
t.eq(len(files(md)), 2, "two messages delivered")

# --- Maildir++ folders
md = pmtest.mailbox(env.path("m8"), folders=("Lists.Work",))
rc, _ = run(pmtest.deliver_argv(md, "-f", "Lists.Work"), b"S: f\n\nb\n", **ENV)
t.eq((rc, len(files(md + "/.Lists.Work")), files(md)), (0, 1, []), "-f delivers into .Lists.Work/new")
rc, err = run(pmtest.deliver_argv(md, "-f", "Junk"), b"S: f\n\nb\n", **ENV)
t.eq(rc, 111, "missing folder without -c -> 111")
rc, _ = run(pmtest.deliver_argv(md, "-c", "-f", "Junk"), b"S: f\n\nb\n", **ENV)
t.eq((rc, len(files(md + "/.Junk"))), (0, 1), "-c creates the folder and delivers")
t.ok(os.path.isfile(md + "/.Junk/maildirfolder") and os.path.isdir(md + "/.Junk/cur"), "created folder is a Maildir++ folder")
for bad in ("../x", ".hidden", "a/b", "a..b", ""):
    rc, _ = run(pmtest.deliver_argv(md, "-c", "-f", bad), b"S: f\n\nb\n", **ENV)
    t.eq(rc, 100, "invalid folder name %r -> 100" % bad)
t.ok(not os.path.exists(env.path("x")) and not os.path.exists(md + "/..x"), "nothing created outside the Maildir")

# --- -c creates the Maildir itself (the parent must be the owner's)
parent = env.path("m9")
os.mkdir(parent, 0o755)
os.chown(parent, pmtest.MAILUID, pmtest.MAILGID)
rc, _ = run(pmtest.deliver_argv(parent + "/Maildir", "-c"), b"S: x\n\nb\n", **ENV)
t.eq((rc, len(files(parent + "/Maildir"))), (0, 1), "-c creates a missing Maildir")

# --- exit codes of the failure paths
md = pmtest.mailbox(env.path("m10"))
rc, err = run(pmtest.deliver_argv(env.path("nonexistent")), b"S: x\n\nb\n", **ENV)
t.eq(rc, 111, "missing Maildir -> 111")
t.ok(err.startswith("deliver-maildir: fatal: unable to ") and err.count("\n") == 1, "one fatal line", err)
rc, _ = run([pmtest.bin("deliver-maildir")], b"", **ENV)
t.eq(rc, 100, "no Maildir argument: usage, 100")
rc, _ = run([pmtest.bin("deliver-maildir"), "-x", md], b"", **ENV)
t.eq(rc, 100, "unknown option: usage, 100")
rc, _ = run([pmtest.bin("deliver-maildir"), "-q", "12X", md], b"", **ENV)
t.eq(rc, 100, "malformed quota: usage, 100")
rc, err = run([pmtest.bin("deliver-maildir"), "-u", "0:0", md], b"S: x\n\nb\n", **ENV)
t.eq(rc, 111, "-u 0:0 refused -> 111")
rc, _ = run([pmtest.bin("deliver-maildir"), "-u", "%d:0" % pmtest.MAILUID, md], b"S: x\n\nb\n", **ENV)
t.eq(rc, 111, "-u with group 0 refused -> 111")
rc, _ = run([pmtest.bin("deliver-maildir"), "-u", "root", md], b"S: x\n\nb\n", **ENV)
t.eq(rc, 111, "-u root refused -> 111")
rc, _ = run([pmtest.bin("deliver-maildir"), "-u", "no-such-user-pm", md], b"S: x\n\nb\n", **ENV)
t.eq(rc, 111, "unknown user -> 111")
rc, _ = run([pmtest.bin("deliver-maildir"), "-u", "12x:3", md], b"S: x\n\nb\n", **ENV)
t.eq(rc, 100, "malformed uid:gid -> usage, 100")
if ROOT:
    rc, err = run([pmtest.bin("deliver-maildir"), md], b"S: x\n\nb\n", **ENV)
    t.eq(rc, 111, "root without -u refuses -> 111")
    t.ok("root" in err, "and says why", err)
else:
    rc, _ = run([pmtest.bin("deliver-maildir"), "-u", "%d:%d" % (os.getuid() + 1, os.getgid()), md], b"S: x\n\nb\n", **ENV)
    t.eq(rc, 111, "non-root asked to become another user -> 111")
t.eq(files(md), [], "no failure above delivered anything")
t.eq(files(md, "tmp"), [], "and nothing is left in tmp/")

# --- as root: the drop really happens (the file belongs to the target, groups dropped)
if ROOT:
    md = env.path("m11")
    os.mkdir(md, 0o700)   # root's: the dropped process must fail to create in it
    rc, _ = run(pmtest.deliver_argv(md, "-c"), b"S: x\n\nb\n", **ENV)
    t.eq(rc, 111, "after the drop, a root-owned Maildir is not writable -> 111")

t.done()
