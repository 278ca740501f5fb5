#!/usr/bin/python3
# pop-serve and a client that pipelines and then reads only a trickle.
# Before login every command's replies are out within the timeout (-t):
# thousands of pipelined CAPAs read a few kB at a time must not hold the
# process (and its slot under tcpserver) for hours without a password.
# After login only the idle timeout applies: a RETR read slowly but
# steadily goes through even when it takes longer than -t.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "slow pw"
md = env.add_user("u@example.test", PW)
ids = "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID)
body = b"".join(b"line %06d of a long message .................................\n" % i for i in range(6000))
env.run(["deliver-maildir", "-u", ids, md], input=b"Subject: big\n\n" + body,
        env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": ""})


def trickle(script, secs, chunk=4096, pause=0.25, extra=None):
    """pop-serve -t 2 reading script from a file, its replies read from a
    pipe chunk bytes per pause; (ended, seconds, bytes, log)"""
    inp = env.path("in")
    with open(inp, "wb") as f:
        f.write(script)
    r, w = os.pipe()
    with open(inp, "rb") as fin:
        p = env.start([pmtest.bin("pop-serve"), "-P", "-t", "2"], stdin=fin, stdout=w,
                      stderr=open(env.path("err"), "wb"), env={"TCPREMOTEIP": "10.0.0.1", **(extra or {})})
    os.close(w)
    t0 = time.monotonic()
    got = b""
    while time.monotonic() - t0 < secs:
        b = os.read(r, chunk)
        if not b:
            break
        got += b
        time.sleep(pause)
    took = time.monotonic() - t0
    ended = p.poll() is not None
    if not ended:
        p.kill()
    p.wait()
    os.close(r)
    with open(env.path("err"), "rb") as f:
        log = f.read().decode(errors="replace")
    return ended, took, got, log


ended, took, got, log = trickle(b"CAPA\r\n" * 50000, 15)
t.ok(ended and took < 12, "before login: a trickling reader of pipelined replies is cut off (%.1f s)" % took, log[-300:])
t.ok("result=write-error" in log, "logged as a write error", log[-300:])
t.ok(len(got) < 50000 * 50, "and far from every reply was sent (%d bytes)" % len(got))

# whatever the length of the replies: a failed flush drops the buffer,
# and when the put that failed was an unchecked CAPA line (here, with
# STLS offered, the replies are 133 bytes long and every flush falls on
# one), the error was swallowed and the session went on past its deadline
ended, took, got, log = trickle(b"CAPA\r\n" * 50000, 15,
                                extra={"SSLCTLFD": "2", "SSLREADFD": "2", "SSLWRITEFD": "2"})
t.ok(ended and took < 12 and "result=write-error" in log,
     "the same with STLS offered: cut off and logged (%.1f s)" % took, log[-300:])

script = b"USER u@example.test\r\nPASS " + PW.encode() + b"\r\nRETR 1\r\nQUIT\r\n"
ended, took, got, log = trickle(script, 40, chunk=16384, pause=0.2)
t.ok(took > 2.5, "after login: the RETR takes longer than -t (%.1f s)" % took)
t.ok(b"line 005999" in got and got.endswith(b"+OK bye\r\n"), "and is sent whole, then QUIT", got[-80:])
env.close()
t.done()
