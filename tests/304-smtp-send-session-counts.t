#!/usr/bin/python3
"""smtp-send: each session line's ok/temp/perm counts the verdicts of that
session's host only (man smtp-send, LOGGING: one line per connection).
Two MX hosts (tests/twomx.py): "bad" refuses one recipient (550), then
closes before the data's end, so the job moves on to "good".

Before, good's done line counted the 550 that bad had given as its own
(perm=1), and bad's next line counted nothing: a verdict was logged under
the wrong host."""
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import CLOSE
from twomx import TwoMX, NOPIPE, delivered

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)


def sessions():
    """{host: [(result, {ok, temp, perm} or None)]} from the log lines"""
    got = {}
    for line in mx.err.splitlines():
        if "event=session" not in line:
            continue
        kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
        n = {k: int(kv[k]) for k in ("ok", "temp", "perm") if k in kv} or None
        got.setdefault(kv.get("host"), []).append((kv.get("result"), n))
    return got


two = ("x@two.test", "y@two.test")
rc, out, pb, pg = mx.run({"ext": NOPIPE, "rcpt": {"x@two.test": b"550 5.1.1 no such user"},
                          "over": {b"RCPT": [None, CLOSE]}}, {}, two)
t.eq((rc, [(o[0], o[3]) for o in out], delivered(pg)),
     (111, [("perm", "bad.two.test"), ("ok", "good.two.test")], 1), "550 at bad, the other recipient at good")
got = sessions()
t.eq(got.get("bad.two.test"), [("next", {"ok": 0, "temp": 0, "perm": 1})],
     "bad's line: result=next with the 550 it gave")
t.eq(got.get("good.two.test"), [("done", {"ok": 1, "temp": 0, "perm": 0})],
     "good's line: only the delivery it made")

# 100 delivered at bad, then closed at the second MAIL: the last one at good
many = ["r%d@two.test" % k for k in range(101)]
rc, out, pb, pg = mx.run({"over": {b"MAIL": [None, CLOSE]}}, {}, many)
t.eq((rc, delivered(pb), delivered(pg)), (0, 1, 1), "101 recipients: 100 at bad, 1 at good")
got = sessions()
t.eq(got.get("bad.two.test"), [("next", {"ok": 100, "temp": 0, "perm": 0})],
     "bad's line: the 100 it took")
t.eq(got.get("good.two.test"), [("done", {"ok": 1, "temp": 0, "perm": 0})],
     "good's line: the one it took")

# nothing settled at bad: its next line has no counts
rc, out, pb, pg = mx.run({"hangup": "mail"}, {}, two)
got = sessions()
t.eq((rc, got.get("bad.two.test"), got.get("good.two.test")),
     (0, [("next", None)], [("done", {"ok": 2, "temp": 0, "perm": 0})]),
     "closed at MAIL: bad's line has no counts, good's has both")

# -B: the second job over good's cached connection adds to its line
rc, bl, pb, pg = mx.batch({"hangup": "mail"}, {}, ["a@b.test", "c@d.test"])
got = sessions()
t.eq((rc, got.get("bad.two.test"), got.get("good.two.test")),
     (0, [("next", None)], [("done", {"ok": 2, "temp": 0, "perm": 0})]),
     "-B: one line for good's connection, both jobs counted")
mx.close()
t.done()
