#!/usr/bin/python3
# deliver-maildir streams: a 100 MB message (CRLF lines, bare CRs, a CR at
# every possible buffer boundary) is delivered exactly, in constant memory
# (peak RSS no more than a tiny delivery's plus a small margin; both
# include the forking python's RSS, so a buffering delivery would show 100 MB more).
import hashlib, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
TOP = b"Return-Path: <a@example.org>\nDelivered-To: b@example.test\n"
MB = 1 << 20


def deliver(md, chunks):
    """feed chunks, return (exit code, peak RSS in KB, sha256 of the expected file)"""
    p = subprocess.Popen(pmtest.deliver_argv(md), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=ENV)
    h = hashlib.sha256(TOP)
    pending_cr, last = b"", b"\n"
    for c in chunks:
        p.stdin.write(c)
        c = pending_cr + c
        pending_cr = b"\r" if c.endswith(b"\r") else b""
        if pending_cr:
            c = c[:-1]
        c = c.replace(b"\r\n", b"\n")
        h.update(c)
        last = c[-1:] or last
    # a last line without LF gets one; a final CR becomes it
    if pending_cr or last != b"\n":
        h.update(b"\n")
    p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss, h.hexdigest()


def big(total):
    # lines of 1..1499 bytes so CRLF pairs straddle every read boundary; a bare CR now and then
    block = b"".join(b"H%d: " % i + b"v" * (i % 1499) + (b"\r" if i % 7 == 0 else b"") + b"\r\n" for i in range(1, 400))
    block = b"Subject: big\r\n\r\n" + block
    sent = 0
    while sent < total:
        c = block[: total - sent]
        sent += len(c)
        yield c


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(MB), b""):
            h.update(c)
    return h.hexdigest()


md = pmtest.mailbox(env.path("small"))
rc0, rss0, _ = deliver(md, [b"Subject: small\r\n\r\nhi\r\n"])
t.eq(rc0, 0, "a tiny delivery")

md = pmtest.mailbox(env.path("large"))
rc, rss, want = deliver(md, big(100 * MB))
t.eq(rc, 0, "a 100 MB delivery exits 0")
files = os.listdir(md + "/new")
t.eq(len(files), 1, "one file in new/")
t.ok(files and sha(os.path.join(md, "new", files[0])) == want, "its bytes are exactly the input with LF line ends")
t.diag("peak RSS: tiny %d KB, 100 MB %d KB" % (rss0, rss))
t.ok(rss <= rss0 + 4096, "memory stays constant: peak RSS within 4 MB of a tiny delivery's", (rss0, rss))
t.done()
