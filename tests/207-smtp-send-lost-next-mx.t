#!/usr/bin/python3
"""smtp-send: a host whose connection is lost (closed, no 421) before the
message's end went out moves the job on to the next MX host, as a 421
there does (test 200) and as Postfix's smtp(8) does: a transaction cut off
before the end of its data is as if RSET (RFC 5321 3.8), so the host has
no copy. Two MX hosts on one port (tests/twomx.py): "bad" on 127.0.0.2
closes, "good" on 127.0.0.1 accepts.

- Closed right after MAIL (or its 250), after RCPT, after DATA (no 354), right after
  the 354 or once some of the data came (a 4 MB message: the client's
  writes fail before its end goes out), with and without PIPELINING: every
  recipient was deferred (4.4.2) at the first host; now the next host
  takes the mail, once.
- Closed after the final dot, before its reply: the host may have taken
  the message (RFC 1047), so it is deferred there, not sent again.
- A recipient refused (5xx) before the close keeps its verdict; a second
  transaction (past 100 recipients) cut off moves only its own recipients;
  one host only (an address literal) defers with the reason; every host
  closing defers with the last host's name.
- -B: a cached connection closed at MAIL is still taken as stale (a fresh
  connection to the same host decides); a fresh one closed there moves the
  job on, and the next job goes over the other host's cached connection."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import CLOSE
from twomx import TwoMX, NOPIPE, delivered, cmds

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)
# far past the socket buffers, under the peer's SIZE
BIG = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 4000


def moves_on(name, bad, rcpts=("x@two.test",), msg=None):
    rc, out, pb, pg = mx.run(bad, {}, rcpts, **({"msg": msg} if msg else {}))
    t.eq((rc, [(o[0], o[3]) for o in out], delivered(pg), delivered(pb)),
         (0, [("ok", "good.two.test")] * len(rcpts), 1, 0), name + ": delivered once by the next host")
    return pb, pg


two = ("x@two.test", "y@two.test")
moves_on("closed after MAIL", {"hangup": "mail"})
t.ok("result=next" in mx.err and "connection closed by peer" in mx.err, "... logged as a move on, with the reason",
     mx.err)
moves_on("closed after MAIL, no PIPELINING", {"ext": NOPIPE, "hangup": "mail"})
moves_on("250 to MAIL, then closed, no PIPELINING", {"ext": NOPIPE, "over": {b"MAIL": [(b"250 2.1.0 ok", CLOSE)]}})
moves_on("closed after RCPT", {"over": {b"RCPT": [CLOSE]}}, two)
moves_on("closed after the second RCPT, no PIPELINING", {"ext": NOPIPE, "over": {b"RCPT": [None, CLOSE]}}, two)
moves_on("closed after DATA", {"hangup": "data"})
moves_on("closed after DATA, no PIPELINING", {"ext": NOPIPE, "hangup": "data"})
pb, pg = moves_on("closed right after the 354, 4 MB message", {"hangup": "354"}, msg=BIG)
got = [d for s in pg.sessions for d in s["data"]]
t.ok(len(got) == 1 and got[0].endswith(b"z" * 998 + b"\r\n") and len(got[0]) > len(BIG) - 100,
     "... the next host has the whole message")
moves_on("closed mid-DATA, 4 MB message", {"hangup": "body"}, msg=BIG)

# after the final dot: the host may have it; no second copy
rc, out, pb, pg = mx.run({"dot": CLOSE}, {})
t.eq((rc, out[0][0], out[0][2], out[0][3], len(pg.sessions), delivered(pb)),
     (111, "temp", "4.4.2", "bad.two.test", 0, 1), "closed after the final dot: deferred at that host, no next host")
t.ok("connection closed by peer" in out[0][4], "... with the reason", out)

# a verdict given before the close stands; the rest go on
rc, out, pb, pg = mx.run({"ext": NOPIPE, "rcpt": {"x@two.test": b"550 5.1.1 no such user"},
                          "over": {b"RCPT": [None, CLOSE]}}, {}, two)
t.eq((rc, [(o[0], o[1], o[3]) for o in out], delivered(pg)),
     (111, [("perm", "x@two.test", "bad.two.test"), ("ok", "y@two.test", "good.two.test")], 1),
     "RCPT 550 then closed: the 550 stands, the other recipient goes to the next host")

many = ["r%d@two.test" % k for k in range(101)]
rc, out, pb, pg = mx.run({"over": {b"MAIL": [None, CLOSE]}}, {}, many)
t.eq((rc, sum(o[3] == "bad.two.test" and o[0] == "ok" for o in out), [o[:2] + o[3:4] for o in out[100:]],
      delivered(pb), delivered(pg)), (0, 100, [["ok", "r100@two.test", "good.two.test"]], 1, 1),
     "101 recipients, closed at the second MAIL: the 100 delivered stand, the last goes to the next host")

rc, out, pb, pg = mx.run({}, {"hangup": "mail"}, ("x@[127.0.0.1]",), domain="[127.0.0.1]")
t.eq((rc, out[0][0], out[0][2], out[0][3], len(pg.sessions)), (111, "temp", "4.4.2", "127.0.0.1", 1),
     "one host only (an address literal) closed after MAIL: deferred, one session")
t.ok("connection closed by peer" in out[0][4], "... with the reason", out)
rc, out, pb, pg = mx.run({"hangup": "mail"}, {"ext": NOPIPE, "hangup": "data"})
t.eq((rc, out[0][0], out[0][2], out[0][3]), (111, "temp", "4.4.2", "good.two.test"),
     "every host closes: deferred with the last host's name")
t.eq((cmds(pb).count(b"MAIL"), cmds(pg).count(b"DATA")), (1, 1), "... each host tried once")

# -B
rc, bl, pb, pg = mx.batch({"over": {b"MAIL": [None, CLOSE]}}, {}, ["a@b.test", "c@d.test"])
t.eq(([(b[0][0], b[0][3]) for b in bl], len(pb.sessions), delivered(pb), len(pg.sessions)),
     ([("ok", "bad.two.test"), ("ok", "bad.two.test")], 2, 2, 0),
     "-B: a cached connection closed at MAIL is stale: a fresh connection to the same host takes the job")
rc, bl, pb, pg = mx.batch({"hangup": "mail"}, {}, ["a@b.test", "c@d.test"])
t.eq(([(b[0][0], b[0][3]) for b in bl], len(pb.sessions), len(pg.sessions), delivered(pg)),
     ([("ok", "good.two.test"), ("ok", "good.two.test")], 1, 1, 2),
     "-B: a fresh connection closed at MAIL: the next host takes the job, and the next job over its connection")
mx.close()
t.done()
