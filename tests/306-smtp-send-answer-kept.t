#!/usr/bin/python3
"""smtp-send: when one MX host answered and a later one could not be
reached, the recipients are deferred with what the host that answered
said, not with the later "unable to connect". That text is both the
sender's reason in a delay or failure report and queue-run's sign of a
dead domain (every recipient "unable to connect": suspended): a domain
with a host that answers 421 is not dead. Two MX hosts (tests/twomx.py):
"bad" (preference 10) greets with 421, nothing listens at "good" (20).
Before, the result named good and "unable to connect: Connection refused"."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from twomx import TwoMX

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)

rc, out, pb, pg = mx.run({"greeting": b"421 4.3.2 bad.two.test busy, try later"}, None, ("x@two.test", "y@two.test"))
t.eq(rc, 111, "smtp-send exits 111: not every recipient settled for good")
t.eq([(o[0], o[2], o[3]) for o in out], [("temp", "4.3.2", "bad.two.test")] * 2,
     "both recipients deferred with bad's code and name")
t.ok(all("busy, try later" in o[4] and "unable to connect" not in o[4] for o in out),
     "the text is bad's 421", out)
t.ok(len(pb.sessions) == 1, "bad was tried once", len(pb.sessions))

mx.close()
t.done()
