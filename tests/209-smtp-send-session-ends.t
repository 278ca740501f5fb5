#!/usr/bin/python3
"""smtp-send: how a session ends, and what the job is told then.

- DATA fills the write buffer (65 recipients with long ORCPTs, pipelined)
  and the host has stopped reading: its flush times out. That is a loss
  before the data like any other: the next MX host takes the mail. It
  was "4.5.3 too many recipients for the peer", the session not marked
  dead.
- "421-" and the close as the reply to the final dot is no reply: the
  host may have the message (RFC 1047), so it is deferred there, not sent
  to the next host as well (a second copy). It moved on before: the
  partial reply's code was taken for a whole 421.
- RSET refused (500) between two transactions of a job, on a connection
  an earlier job (-B) was put off on (451): the rest are deferred with
  the RSET's reply, not the earlier job's 451 text.
- a 421 read at an RCPT in a pipelined group undoes the verdicts read with
  it, as one at DATA does: a reply out of step (two replies to MAIL)
  cannot be told from the closing peer, and the 550 read for the second
  recipient was the first's.
- every recipient refused (550) before the host closed: the job has its
  verdicts, and no connection is opened to the next host for nothing.
- -B with -w 1: a pipelined group too big for the write buffer, on a
  connection cached since more than 1 s, is written under its own
  deadline, not the last reply's: no "timeout sending" at the first
  blocked write, no second connection."""
import os, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import OverPeer, SMTPPeer
from twomx import TwoMX, NOPIPE, delivered

t = pmtest.TAP()
env = pmtest.Env(domains=())
mx = TwoMX(t, env)


class Deaf(SMTPPeer):
    """127.0.0.2: greeting and EHLO (PIPELINING, DSN), then reads nothing
    more, with a small window, so that the client's writes block (set on
    the listening socket before any connection: each one inherits them)"""

    def __init__(self, port):
        SMTPPeer.__init__(self, {}, host="127.0.0.2", port=port)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        self.ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)

    def dialogue(self, c, o, sess):
        c.send(b"220 deaf ESMTP\r\n")
        sess["cmds"].append(c.line())
        c.send(b"250-deaf\r\n250-PIPELINING\r\n250 DSN\r\n")
        time.sleep(8)   # the client gives up after 1 s (-w 1)


# MAIL (22 bytes) and 65 RCPT lines make 65534 bytes: DATA's 6 overflow
# the 65536-byte buffer, so DATA's own write is the one that fails
rcpts = ["r%02d@two.test" % k for k in range(65)]
orcpt = ["ORCPT=rfc822;" + "x" * (970 if k < 64 else 962) for k in range(65)]
lines = [b"MAIL FROM:<a@b.test>\r\n"] + [("RCPT TO:<%s> %s\r\n" % (r, o)).encode() for r, o in zip(rcpts, orcpt)]
assert sum(map(len, lines)) == 65534
port = pmtest.free_port()
deaf = Deaf(port)
good = OverPeer({}, host="127.0.0.1", port=port)
mx.e["PIPEMAIL_DSN"] = "\n".join([""] + orcpt)
r = mx._send(port, ["-f", "a@b.test", "two.test"] + rcpts, b"Subject: x\r\n\r\nbody\r\n", 1)
del mx.e["PIPEMAIL_DSN"]
deaf.close(), good.close()
out = [l.split(" ", 4) for l in r.stdout.decode(errors="replace").splitlines()]
t.eq((r.returncode, sorted(set((o[0], o[3]) for o in out)), len(out), delivered(good), len(deaf.sessions)),
     (0, [("ok", "good.two.test")], 65, 1, 1),
     "DATA's write into a host that stopped reading fails: the next host takes the mail")
t.ok("result=next" in mx.err and "timeout sending" in mx.err, "... logged as a move on, with the reason", mx.err)

# "421-" then the close after the final dot: no reply; no second copy
rc, out, pb, pg = mx.run({"dot": b"421-4.3.0 going down", "close_after_dot": True}, {})
t.eq((rc, out[0][0], out[0][2], out[0][3], len(pg.sessions), delivered(pb)),
     (111, "temp", "4.4.2", "bad.two.test", 0, 1),
     "a partial 421 to the final dot, then the close: deferred at that host, not sent to the next")
rc, out, pb, pg = mx.run({"dot": b"421-4.3.0 going down\r\n250 2.0.0 queued"}, {})
t.eq((rc, out[0][0], out[0][3], len(pg.sessions), delivered(pb)), (111, "temp", "bad.two.test", 0, 1),
     "a 421 line then a 250 line to the final dot (garbled): deferred there, not sent to the next")

# RSET refused after a transaction, on a connection a 451 put off before
p = OverPeer({"ext": NOPIPE, "over": {b"MAIL": [b"451 4.7.1 come back later", b"550 5.7.1 not this sender"],
                                      b"RSET": [None, b"500 5.5.1 RSET refused"]}})
msg = env.path("m")
with open(msg, "wb") as f:
    f.write(b"Subject: x\r\n\r\nbody\r\n")
many = " ".join("r%d@[127.0.0.1]" % k for k in range(101))
inp = "%s [127.0.0.1] a@b.test x@[127.0.0.1]\n%s [127.0.0.1] c@d.test %s\n" % (msg, msg, many)
r = env.run(["smtp-send", "-B", "-R", "-4", "-p", str(p.port), "-w", "5", "-T", "no"],
             input=inp.encode(), check=False)
p.close()
blocks = [[l.split(" ", 4) for l in b.splitlines()] for b in r.stdout.decode().split(".\n")[:-1]]
t.eq((len(blocks), [b[:3] for b in blocks[0]], len(p.sessions)),
     (2, [["temp", "x@[127.0.0.1]", "4.7.1"]], 1), "-B: the first job put off (451), its connection kept")
last = blocks[1][-1] if len(blocks) > 1 and blocks[1] else ["", "", "", "", ""]
t.eq((sum(o[0] == "perm" for o in blocks[1][:100]), last[:3]), (100, ["temp", "r100@[127.0.0.1]", "4.4.2"]),
     "the next job: 100 refused with MAIL, the last deferred when RSET is refused")
t.ok("500" in last[4] and "RSET refused" in last[4] and "later" not in last[4],
     "... with RSET's reply, not the earlier job's", last)

# every verdict given before the close: nothing for the next host
rc, out, pb, pg = mx.run({"rcpt": {"x@two.test": b"550 5.1.1 no such user"}, "hangup": "data"}, {})
t.eq((rc, out[0][0], out[0][2], out[0][3], len(pg.sessions)), (100, "perm", "5.1.1", "bad.two.test", 0),
     "the only recipient refused, then the host closed: its 550 stands, no connection to the next host")
# a reply out of step (two to MAIL) then a 421 in a pipelined group: the
# 421 lands at the last RCPT, and the verdicts read before it are one
# behind (the second recipient read the first's 550): all undone
three = ("x@two.test", "y@two.test", "z@two.test")
rc, out, pb, pg = mx.run({"over": {b"MAIL": [b"250 2.1.0 ok\r\n250 2.1.0 ok"], b"RCPT": [None, b"421 4.3.2 closing"]},
                          "rcpt": {"x@two.test": b"550 5.1.1 no such user x"}}, {}, three)
t.eq((rc, [(o[0], o[1], o[3]) for o in out], delivered(pg)),
     (0, [("ok", r, "good.two.test") for r in three], 1),
     "pipelined, a 421 at RCPT after a reply out of step: no recipient keeps another's 550, all go on")
# -B, -w 1: the next job comes 1.5 s after the last reply on the cached
# connection; its pipelined group (100 long RCPTs) is past the buffer and
# the host's window is small, so the group's writes wait. They waited
# under the last reply's deadline, long past: "timeout sending" at once,
# the cached connection taken for stale and a second one opened.
class Narrow(OverPeer):
    def __init__(self, opts):
        OverPeer.__init__(self, opts)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        self.ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)


p = Narrow({"ext": [b"PIPELINING", b"DSN"]})
many = ["r%d@[127.0.0.1]" % k for k in range(100)]
dsn = "DSN\t\t" + "\t".join("ORCPT=rfc822;" + "y" * 640 for _ in many) + "\n"
sp = subprocess.Popen([pmtest.bin("smtp-send"), "-B", "-R", "-4", "-p", str(p.port), "-w", "1", "-T", "no"],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env)
sp.stdin.write(("%s [127.0.0.1] a@b.test x@[127.0.0.1]\n" % msg).encode())
sp.stdin.flush()
time.sleep(1.5)
sp.stdin.write((dsn + "%s [127.0.0.1] c@d.test %s\n" % (msg, " ".join(many))).encode())
o, e = sp.communicate(timeout=60)
p.close()
blocks = [[l.split(" ", 4) for l in b.splitlines()] for b in o.decode().split(".\n")[:-1]]
t.eq((len(blocks), [sorted(set(x[0] for x in b)) for b in blocks], len(p.sessions)), (2, [["ok"], ["ok"]], 1),
     "-B: a cached connection's pipelined group past the buffer waits under its own deadline: one connection")
mx.close()
t.done()
