#!/usr/bin/python3
"""smtp-send: a host that puts the whole transaction off moves the job on
to the next MX host or address (RFC 5321 5.1: "try (and retry) each of
the relevant addresses ... until a delivery attempt succeeds"), as
Postfix's smtp(8) does after "a recoverable error condition". Two MX
hosts on one port: "bad" on 127.0.0.2 (preference 10), "good" on
127.0.0.1 (preference 20), as in test 180.

- A 4xx to MAIL (421 too) deferred every recipient for the retry interval
  at the first host although the second would take the mail: now the next
  host gets it, once; a 421 to RCPT, to DATA or to the final dot likewise
  (the data was not taken), with and without PIPELINING, and a 421 to the
  RSET before a second transaction. A second
  transaction put off (past 100 recipients): only its recipients go on.
- Kept: a 4xx to RCPT (greylisting answers there: hopping only spreads it)
  and a 5xx to MAIL settle the recipients at the first host; a recipient
  refused with 5xx before the 421 keeps its verdict; one host only (an
  address literal) defers with the MAIL reply; every host with a 4xx to
  MAIL defers with the last host's reply and name, as for EHLO (test 180).
- -B, a cached connection answering 4xx to MAIL: the job moves on to the
  other host (not the cached one again); the cached connection stays for
  the next job unless the other host's connection took the mail (then that
  one is cached and the first closed with QUIT); so does a fresh connection
  that put the job off while no other is cached."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import OverPeer
from twomx import TwoMX, MSG, NOPIPE, delivered, cmds

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)
run, batch, e = mx.run, mx.batch, mx.e


def moves_on(name, bad, good=None, rcpts=("x@two.test",)):
    rc, out, pb, pg = run(bad, good or {}, rcpts)
    t.eq((rc, [(o[0], o[3]) for o in out], delivered(pg), delivered(pb)),
         (0, [("ok", "good.two.test")] * len(rcpts), 1, 0), name + ": delivered once by the next host")
    return pb, pg


moves_on("MAIL 451", {"over": {b"MAIL": [b"451 4.7.1 sender later"]}})
moves_on("MAIL 452, no PIPELINING", {"ext": NOPIPE, "over": {b"MAIL": [b"452 4.3.1 no room"]}})
moves_on("MAIL 421", {"over": {b"MAIL": [b"421 4.3.2 closing"]}})
moves_on("RCPT 421", {"over": {b"RCPT": [None, b"421 4.3.2 closing"]}}, rcpts=("x@two.test", "y@two.test"))
moves_on("RCPT 421, no PIPELINING", {"ext": NOPIPE, "over": {b"RCPT": [None, b"421 4.3.2 closing"]}},
         rcpts=("x@two.test", "y@two.test"))
moves_on("DATA 421", {"over": {b"DATA": [b"421 4.3.2 closing"]}})
moves_on("DATA 421, no PIPELINING", {"ext": NOPIPE, "over": {b"DATA": [b"421 4.3.2 closing"]}})
rc, out, pb, pg = run({"dot": b"421 4.3.2 closing"}, {})
t.eq((rc, out[0][0], out[0][3], delivered(pg)), (0, "ok", "good.two.test", 1),
     "421 to the final dot: the data was not taken, the next host gets it")

# a verdict given before the 421 stands; the rest go on
rc, out, pb, pg = run({"ext": NOPIPE, "rcpt": {"x@two.test": b"550 5.1.1 no such user"},
                       "over": {b"DATA": [b"421 4.3.2 closing"]}}, {}, rcpts=("x@two.test", "y@two.test"))
t.eq((rc, [(o[0], o[1], o[3]) for o in out], delivered(pg)),
     (111, [("perm", "x@two.test", "bad.two.test"), ("ok", "y@two.test", "good.two.test")], 1),
     "RCPT 550 then DATA 421: the 550 stands, the other recipient goes to the next host")

# 101 recipients: two transactions; the first host takes 100, puts the second off
many = ["r%d@two.test" % k for k in range(101)]
rc, out, pb, pg = run({"over": {b"MAIL": [None, b"451 4.3.2 later"]}}, {}, rcpts=many)
t.eq((rc, sum(o[3] == "bad.two.test" and o[0] == "ok" for o in out), [o[:2] + o[3:4] for o in out[100:]],
      delivered(pb), delivered(pg)), (0, 100, [["ok", "r100@two.test", "good.two.test"]], 1, 1),
     "101 recipients, MAIL 451 to the second transaction: the 100 delivered stand, the last goes to the next host")

# a 421 to the RSET between two transactions (the first one left
# unfinished by a 451 to DATA): the recipient kept for the second goes on
rc, out, pb, pg = run({"rcpt": {"y@two.test": b"452 4.5.3 too many recipients"},
                       "over": {b"DATA": [b"451 4.3.0 later"], b"RSET": [b"421 4.3.2 closing"]}}, {},
                      rcpts=("x@two.test", "y@two.test"))
t.eq((rc, [(o[0], o[1], o[3]) for o in out], cmds(pb)[-1:], delivered(pb), delivered(pg)),
     (111, [("temp", "x@two.test", "bad.two.test"), ("ok", "y@two.test", "good.two.test")], [b"RSET"], 0, 1),
     "RSET 421 between transactions: the DATA 451 stands, the recipient left goes to the next host")

# kept as they were
rc, out, pb, pg = run({"rcpt": {"x@two.test": b"451 4.7.1 greylisted"}}, {})
t.eq((rc, out[0][0], out[0][2], out[0][3], delivered(pg), len(pg.sessions)),
     (111, "temp", "4.7.1", "bad.two.test", 0, 0), "RCPT 451 (greylisting): deferred at the first host, no hop")
t.ok("greylisted" in out[0][4], "... with its reply", out)
rc, out, pb, pg = run({"over": {b"MAIL": [b"550 5.7.1 sender refused"]}}, {})
t.eq((rc, out[0][0], out[0][2], len(pg.sessions)), (100, "perm", "5.7.1", 0), "MAIL 550: failed there, no hop")

m451 = {"over": {b"MAIL": [b"451 4.7.1 bad says later"]}}
rc, out, pb, pg = run(m451, {"over": {b"MAIL": [b"452 4.3.1 good says later"]}})
t.eq((rc, out[0][0], out[0][2], out[0][3], delivered(pb) + delivered(pg)),
     (111, "temp", "4.3.1", "good.two.test", 0), "MAIL 4xx from every host: deferred with the last host's name and code")
t.ok(out[0][4].startswith("452 good says later"), "... and its reply", out)
t.eq(cmds(pb).count(b"MAIL") + cmds(pg).count(b"MAIL"), 2, "... one MAIL to each host")

port = pmtest.free_port()
p1 = OverPeer(m451, host="127.0.0.1", port=port)
r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", "5", "-T", "no", "-f", "a@b.test",
                    "[127.0.0.1]", "x@[127.0.0.1]"], input=MSG, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=e, timeout=60)
p1.close()
out = r.stdout.decode().split(" ", 4)
t.eq((r.returncode, out[0], out[2], out[3], len(p1.sessions)), (111, "temp", "4.7.1", "127.0.0.1", 1),
     "one host only (an address literal): MAIL 451 defers, one session")
t.ok(out[4].startswith("451 bad says later"), "... with the MAIL reply", out)


# bad takes job 0, puts job 1 off at MAIL, takes job 2; good puts job 1 off too
rc, bl, pb, pg = batch({"over": {b"MAIL": [None, b"451 4.7.1 not this sender now"]}},
                       {"over": {b"MAIL": [b"452 4.3.1 good says later"]}}, ["a@b.test", "c@d.test", "a@b.test"])
t.eq([(b[0][0], b[0][3]) for b in bl], [("ok", "bad.two.test"), ("temp", "good.two.test"), ("ok", "bad.two.test")],
     "-B: a cached connection answers MAIL 451: the job tries the other host, then is deferred")
t.eq((len(pb.sessions), delivered(pb), len(pg.sessions), cmds(pb).count(b"MAIL")), (1, 2, 1, 3),
     "... the cached connection kept: the next job goes over it, no new session to the first host")
t.ok(bl[1][0][4].startswith("452 good says later"), "... the deferred job names the last host's reply", bl)

# good takes job 1: its connection is the one kept, bad's is closed
rc, bl, pb, pg = batch({"over": {b"MAIL": [None, b"451 4.7.1 not this sender now"]}}, {},
                       ["a@b.test", "c@d.test", "a@b.test"])
t.eq([(b[0][0], b[0][3]) for b in bl], [("ok", "bad.two.test"), ("ok", "good.two.test"), ("ok", "good.two.test")],
     "-B: a cached connection answers MAIL 451: the other host takes the job, and the next one over the same connection")
t.eq((len(pb.sessions), delivered(pb), len(pg.sessions), delivered(pg)), (1, 1, 1, 2),
     "... one session to each host")
t.ok(cmds(pb)[-1:] == [b"QUIT"], "... the first host's connection closed with QUIT", cmds(pb))
# a fresh connection that put the job off, no other one cached: kept too
rc, bl, pb, pg = batch(m451, {"over": {b"MAIL": [b"452 4.3.1 good says later"]}}, ["c@d.test", "a@b.test"])
t.eq([(b[0][0], b[0][3]) for b in bl], [("temp", "good.two.test"), ("ok", "bad.two.test")],
     "-B: both hosts put the first job off; the next job goes to the first host")
t.eq((len(pb.sessions), cmds(pb).count(b"MAIL"), len(pg.sessions), cmds(pg)[-1:]), (1, 2, 1, [b"QUIT"]),
     "... over the connection that put the first job off, the other host's closed")
mx.close()
t.done()
