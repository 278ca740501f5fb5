#!/usr/bin/python3
"""smtp-send: a reply it cannot read before the message's end went out
(a garbled code, the code changing between lines, a line past the limit,
a reply out of step) moves the job on to the next MX host, as a lost
connection there does (test 207): the session is dropped before the data
was taken, so the host has no copy (RFC 5321 3.8), and the next host may
well be sound. Such a host deferred every recipient, though the next MX
host would have taken the mail. After the final dot it still defers: the
host may have taken the message (RFC 1047). Two MX hosts on one port
(tests/twomx.py): "bad" on 127.0.0.2, "good" on 127.0.0.1."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from twomx import TwoMX, NOPIPE, delivered

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)

for name, bad in [("a garbled code to MAIL", {"over": {b"MAIL": [b"2x0 ok"]}}),
                  ("the code changing between lines (MAIL)", {"over": {b"MAIL": [b"250-ok\r\n550 no"]}}),
                  ("a reply line past the limit (RCPT)", {"over": {b"RCPT": [b"250 " + b"x" * 5000]}}),
                  ("a garbled reply to DATA, no PIPELINING", {"ext": NOPIPE, "over": {b"DATA": [b"35 go"]}}),
                  ("two replies to MAIL, no PIPELINING", {"ext": NOPIPE, "over": {b"MAIL": [b"250 ok\r\n250 extra"]}})]:
    rc, out, pb, pg = mx.run(bad, {})
    t.eq((rc, [(o[0], o[3]) for o in out], delivered(pg), delivered(pb)),
         (0, [("ok", "good.two.test")], 1, 0), name + ": delivered once by the next host")

# after the final dot: deferred there, no second copy
rc, out, pb, pg = mx.run({"dot": b"250-ok\r\n550 no"}, {})
t.eq((rc, [(o[0], o[2], o[3]) for o in out], len(pg.sessions), delivered(pb)),
     (111, [("temp", "4.4.2", "bad.two.test")], 0, 1), "a garbled reply to the final dot: deferred, no next host")
t.ok(out and "malformed reply" in out[0][4], "... with the reason", out)
mx.close()
t.done()
