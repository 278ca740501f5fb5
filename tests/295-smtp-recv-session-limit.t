#!/usr/bin/python3
# smtp-recv -T: a whole session's time (default 3600 s, 0 none) on the
# monotonic clock; past it no command is read: "421 4.4.2 <host> ..." and
# the close. Before, -j 100 and -t 300 let a client that sent a NOOP
# every few minutes hold a tcpserver slot for about 8 hours.
import os, sys, subprocess, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, smtp_replies, queue_files

HOST = "mx.session.test"
t, env = pmtest.TAP(), pmtest.Env()
env.add_user("u@example.test", "pw")
QENV = {"TCPREMOTEIP": "192.0.2.7"}


def session(first, args, noops, later=None):
    """smtp-recv on pipes: send first, then up to noops NOOPs 0.5 s apart
    while it runs, or later (seconds, bytes): those bytes after a pause;
    (replies, log, exit code, NOOPs sent)"""
    p = subprocess.Popen([pmtest.bin("smtp-recv"), "-h", HOST, *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env.env, **QENV))
    got = {}
    readers = [threading.Thread(target=lambda k, f: got.__setitem__(k, f.read()), args=(k, f))
               for k, f in (("out", p.stdout), ("err", p.stderr))]
    for r in readers:
        r.start()
    w = threading.Timer(30, p.kill)
    w.start()
    sent = 0
    try:
        p.stdin.write(first)
        p.stdin.flush()
        if later:
            time.sleep(later[0])
            p.stdin.write(later[1])
            p.stdin.flush()
        while sent < noops and p.poll() is None:
            time.sleep(0.5)
            p.stdin.write(b"NOOP\r\n")
            p.stdin.flush()
            sent += 1
        if p.poll() is None and noops == 0 and not later:
            p.wait(timeout=25)   # idle: only the session's end stops it
    except (BrokenPipeError, subprocess.TimeoutExpired):
        pass
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    rc = p.wait()
    w.cancel()
    for r in readers:
        r.join()
    return smtp_replies(got["out"]), got["err"].decode(errors="replace"), rc, sent


rs, err, rc, sent = session(b"EHLO x\r\n", ["-T", "2"], 40)
code, lines = rs[-1] if rs else (None, [""])
t.ok(code == 421, "-T 2, a NOOP every 0.5 s: the session ends with 421", rs[-3:])
t.ok(lines[-1].startswith("4.4.2 " + HOST + " Session time limit"), "421 4.4.2 host Session time limit", lines)
t.ok(sent < 40, "it ended before the client's 40 NOOPs (20 s) were spent", sent)
t.ok("end=session-time" in err, "end=session-time logged", err[-300:])
t.eq(rc, 0, "exit 0")
t.ok(set(c for c, _ in rs[2:-1]) == {250}, "every NOOP before the end answered 250", [c for c, _ in rs])

# an idle client, far inside -t: the session's end cuts the wait short
rs, err, rc, _ = session(b"EHLO x\r\n", ["-T", "1", "-t", "300"], 0)
t.eq([c for c, _ in rs], [220, 250, 421], "-T 1, idle under -t 300: 421 at the session's end")
t.ok("end=session-time" in err, "end=session-time logged, not a timeout", err[-300:])

# a BDAT message across the end: its later chunks come with BDAT lines,
# commands, and -T refused them (421, the transfer lost) though a message
# begun has its -D; outside a transaction the end holds for BDAT too
BODY1, BODY2 = b"Subject: chunks\r\n\r\nfirst half, ", b"second half\r\n"
START = b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\n"
rs, err, rc, _ = session(START + b"BDAT %d\r\n" % len(BODY1) + BODY1, ["-T", "1", "-D", "60"], 0,
                         (2, b"BDAT %d LAST\r\n" % len(BODY2) + BODY2 + b"QUIT\r\n"))
codes = [c for c, _ in rs]
t.eq(codes[:6], [220, 250, 250, 250, 250, 250], "-T 1, a BDAT message across the end: its last chunk taken")
got = queue_files(env)
t.ok(len(got) == 1 and b"first half, second half" in open(os.path.join(env.queue, "mess", got[0]), "rb").read(),
     "the message queued whole", err[-500:])
t.ok(codes[-1] == 421 and "end=session-time" in err, "then the end holds: QUIT not read", (codes, err[-300:]))
rs, err, rc, _ = session(b"EHLO x\r\n", ["-T", "1", "-D", "60"], 0,
                         (2, START[8:] + b"BDAT %d LAST\r\n" % len(BODY2) + BODY2))
t.eq([c for c, _ in rs], [220, 250, 421], "-T 1, no transaction begun: the next command is not read")
t.eq(queue_files(env), got, "no message queued")

r = env.run(["smtp-recv", "-h", HOST, "-T", "0"], input=b"EHLO x\r\nNOOP\r\nQUIT\r\n", env=QENV, check=False)
t.eq(smtp_codes(r.stdout), [220, 250, 250, 221], "-T 0: no limit")
for bad in ("x", "-1", "86401"):
    r = env.run(["smtp-recv", "-T", bad], input=b"", env=QENV, check=False)
    t.eq(r.returncode, 100, "-T %s: usage error" % bad)
t.done()
