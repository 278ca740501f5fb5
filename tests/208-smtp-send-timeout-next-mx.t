#!/usr/bin/python3
"""smtp-send: a host that stops answering (a timeout, -w 1) before the
message's end went out moves the job on to the next MX host, as a host
that closes there does (test 207); one that stops answering after the
final dot may have taken the message (RFC 1047): deferred there, no second
copy. Two MX hosts on one port (tests/twomx.py): "bad" on 127.0.0.2 stops
answering, "good" on 127.0.0.1 accepts. Each case waits out one 1 s
timeout."""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import STALL
from twomx import TwoMX, NOPIPE, delivered

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)


def stalls(name, bad, rcpts=("x@two.test",)):
    t0 = time.monotonic()
    rc, out, pb, pg = mx.run(bad, {}, rcpts, wait=1)
    took = time.monotonic() - t0
    t.eq((rc, [(o[0], o[3]) for o in out], delivered(pg), delivered(pb)),
         (0, [("ok", "good.two.test")] * len(rcpts), 1, 0), name + ": delivered once by the next host")
    t.ok(0.9 < took < 20, "... after the timeout", took)


stalls("no reply to MAIL", {"over": {b"MAIL": [STALL]}})
t.ok("result=next" in mx.err and "timeout waiting for a reply" in mx.err, "... logged as a move on, with the reason",
     mx.err)
stalls("no reply to the second RCPT, no PIPELINING", {"ext": NOPIPE, "over": {b"RCPT": [None, STALL]}},
       ("x@two.test", "y@two.test"))
stalls("no reply to DATA", {"over": {b"DATA": [STALL]}})

rc, out, pb, pg = mx.run({"dot": STALL}, {}, wait=1)
t.eq((rc, out[0][0], out[0][2], out[0][3], len(pg.sessions), delivered(pb)),
     (111, "temp", "4.4.2", "bad.two.test", 0, 1), "no reply to the final dot: deferred at that host, no next host")
t.ok("timeout waiting for a reply" in out[0][4], "... with the reason", out)
mx.close()
t.done()
