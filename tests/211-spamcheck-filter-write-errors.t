#!/usr/bin/python3
# spamcheck filter mode when its output cannot be written: a reader that
# has gone (EPIPE) and a full disk (ENOSPC, /dev/full) give the documented
# 111, with and without -e, never a verdict's 0, 1 or 2. A closed pipe
# once killed spamcheck by SIGPIPE instead (no exit code at all, and in
# a delivery file a signal is not the documented temporary failure).
# The output pipe's read end is closed before spamcheck starts, so the
# first write fails whatever the timing.
import os, signal, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
sc = pmtest.bin("spamcheck")
if not os.access(sc, os.X_OK):
    t.skip_all("spamcheck not built")
s = pmtest.Scratch()
db = s.path("none.db")   # missing: an empty database
small = b"Subject: hello\n\nA short message.\n"
gtube = b"Subject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n"
big = b"Subject: big\n\n" + b"a line of the body that goes on\n" * 200000   # 6 MB: past the prefix


def run(msg, opts, out):
    """spamcheck's wait status with msg on stdin (a file) and out as stdout"""
    with open(s.path("in"), "wb") as f:
        f.write(msg)
    with open(s.path("in"), "rb") as f:
        p = subprocess.run([sc, "-d", db] + opts, stdin=f, stdout=out, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stderr


for name, msg in (("small", small), ("spam", gtube), ("large", big)):
    for opts in ([], ["-e"]):
        r, w = os.pipe()
        os.close(r)   # the reader is gone before the first write
        rc, err = run(msg, opts, w)
        os.close(w)
        label = "%s%s" % (name, " -e" if opts else "")
        t.eq(rc, 111, "%s to a closed pipe: exit 111 (not killed by SIGPIPE: %d)" % (label, -signal.SIGPIPE))
        t.ok(b"unable to write output" in err, "%s to a closed pipe: says why" % label, err)
        with open("/dev/full", "wb") as full:
            rc, err = run(msg, opts, full.fileno())
        t.eq(rc, 111, "%s to /dev/full: exit 111" % label)

# the verdicts themselves, for contrast
for name, msg, want in (("unsure", small, 2), ("spam", gtube, 1)):
    with open(os.devnull, "wb") as null:
        rc, err = run(msg, ["-e"], null.fileno())
    t.eq(rc, want, "-e %s to a writable output: %d" % (name, want))
t.done()
