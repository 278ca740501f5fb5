#!/usr/bin/python3
# deliver-maildir -f and hostile names. A folder name longer than a file
# name may be (NAME_MAX less the leading '.') can never be made: it was a
# temporary failure (111, "File name too long") retried until the message
# bounced; now it is refused at once like any other invalid name (100).
# A folder or Maildir name with a line feed or carriage return in it
# split the one fatal line on stderr in two, and the second could pass
# for a log line of its own (event=delivered ...); control bytes are now
# written as '?'. The folder qmail (the directory .qmail) is refused: it
# would stand where queue-run reads the user's delivery file.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
MSG = b"Subject: x\n\nbody\n"


def run(md, *opts):
    r = subprocess.run(pmtest.deliver_argv(md, *opts), input=MSG, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stderr


def entries(md):
    return sorted(e for e in os.listdir(md) if e.startswith("."))


md = pmtest.mailbox(env.path("m"))
rc, _ = run(md, "-c", "-f", "a" * 254)
t.eq((rc, entries(md)), (0, ["." + "a" * 254]), "a 254-byte folder name (255 with its dot): delivered")
for name in ("b" * 255, "INBOX." + "c" * 255, "Lists." + "d" * 300, "e" * 5000):
    rc, err = run(md, "-c", "-f", name)
    t.eq(rc, 100, "a %d-byte folder name: refused, 100" % len(name))
    t.ok(err.startswith(b"deliver-maildir: fatal: ") and b"invalid folder name" in err and err.count(b"\n") == 1,
         "... as an invalid folder name, one line", err[:120])
t.eq(entries(md), ["." + "a" * 254], "no folder made for them")
t.eq(len(os.listdir(md + "/tmp")), 0, "tmp/ empty")

# a folder named qmail would be the directory .qmail, where queue-run
# reads the user's delivery file: a directory there is "unsafe" and
# deferred every message to the user
for name in ("qmail", "INBOX.qmail"):
    rc, err = run(md, "-c", "-f", name)
    t.eq(rc, 100, "-f %s: refused, 100" % name)
t.ok(not os.path.exists(md + "/.qmail"), "no .qmail directory made")
rc, _ = run(md, "-c", "-f", "qmail.Lists")
t.eq((rc, os.path.isdir(md + "/.qmail.Lists/new")), (0, True), "-f qmail.Lists is another name: delivered")

# control bytes in names never split the fatal line
for what, argv in (("folder with LF", ("-f", "x\nevent=delivered maildir=forged")),
                   ("folder with CR", ("-f", "x\revent=delivered maildir=forged")),
                   ("folder with ESC", ("-f", "x\x1b[2Jy"))):
    rc, err = run(md, *argv)
    t.eq(rc, 100, what + ": 100")
    t.ok(err.count(b"\n") == 1 and err.endswith(b"\n") and not any(c < 0x20 for c in err[:-1]),
         what + ": one line on stderr, no control bytes in it", err)
missing = env.path("no\nevent=delivered maildir=forged")
r = subprocess.run(pmtest.deliver_argv(missing), input=MSG, env=ENV, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=30)
rc, err = r.returncode, r.stderr
t.eq(rc, 111, "missing Maildir with LF in its name: 111")
t.ok(err.count(b"\n") == 1 and b"no?event=delivered" in err, "... one line, the LF written as '?'", err)
t.done()
