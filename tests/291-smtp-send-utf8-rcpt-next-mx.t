#!/usr/bin/python3
"""smtp-send, a UTF-8 recipient with no ASCII form and an MX host without
SMTPUTF8: the other recipients are delivered there, and that one waits
for the next MX host, which may offer SMTPUTF8 (as a host that cannot
take a UTF-8 sender is passed over, test 277). It failed permanently
(5.6.7) at the first such host before. When no host of the domain offers
SMTPUTF8 it still fails with 5.6.7; when the next host does not take the
session (a 421 greeting) it is deferred. Two MX hosts on one port: "bad"
on 127.0.0.2 (preference 10), "good" on 127.0.0.1 (20)."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from twomx import TwoMX

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)
ASCII = {"ext": [b"PIPELINING", b"8BITMIME"]}
UTF8 = {"ext": [b"PIPELINING", b"8BITMIME", b"SMTPUTF8"]}
JORG = "j\u00f6rg@two.test"


def run(bad, good, rcpts=("x@two.test", JORG)):
    """(rc, [status rcpt enh host], RCPTs of delivered messages at bad, at good)"""
    rc, out, pb, pg = mx.run(bad, good, rcpts)

    def rcpts_at(p):
        return [c.decode() for s in p.sessions if s["data"] for c in s["cmds"] if c.startswith(b"RCPT")]
    return rc, [o[:4] for o in out], rcpts_at(pb), rcpts_at(pg)


rc, out, atb, atg = run(ASCII, UTF8)
t.eq((rc, out), (0, [["ok", "x@two.test", "2.0.0", "bad.two.test"], ["ok", JORG, "2.0.0", "good.two.test"]]),
     "no SMTPUTF8 at the first host: the ASCII recipient delivered there, the UTF-8 one by the next")
t.eq((atb, atg), (["RCPT TO:<x@two.test>"], ["RCPT TO:<%s>" % JORG]), "... each recipient sent once, to its host")

rc, out, atb, atg = run(ASCII, UTF8, rcpts=(JORG,))
t.eq((rc, out), (0, [["ok", JORG, "2.0.0", "good.two.test"]]), "the UTF-8 recipient alone: delivered by the next host")

rc, out, atb, atg = run(ASCII, ASCII)
t.eq((rc, [o[0] + " " + o[2] for o in out]), (111, ["ok 2.0.0", "perm 5.6.7"]),
     "no host of the domain with SMTPUTF8: the UTF-8 recipient fails permanently (5.6.7)")
t.eq((atb, atg), (["RCPT TO:<x@two.test>"], []), "... the ASCII one delivered once, at the first host")

rc, out, atb, atg = run(ASCII, {"greeting": b"421 busy"})
t.eq((rc, [o[0] + " " + o[2][0] for o in out]), (111, ["ok 2", "temp 4"]),
     "the next host refusing the session: the UTF-8 recipient deferred, not failed")
mx.close()
t.done()
