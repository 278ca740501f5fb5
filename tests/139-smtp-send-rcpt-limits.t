#!/usr/bin/python3
"""smtp-send and a peer's recipient limit (RFC 5321 4.5.3.1.10).

- 552 to RCPT is RFC 821's old code for "too many recipients": clients
  SHOULD take it as 452, temporary (Postfix does). It was a bounce.
- A peer that takes N recipients per transaction answers the next ones
  452 (or 552): those go in the next transaction on the same connection,
  as RFC 5321 4.5.3.1.10 has it, not left to a retry hours later.
  With and without PIPELINING, and through queue-run."""
import os, socket, subprocess, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())


class CapPeer:
    """Takes at most cap recipients per transaction; the others get toomany.
    rcpt maps addresses to their own replies. Records each transaction's
    accepted recipients."""

    def __init__(self, cap, toomany=b"452 4.5.3 too many recipients", rcpt=None, pipelining=True):
        self.cap, self.toomany, self.rcpt, self.pipe = cap, toomany, rcpt or {}, pipelining
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.txns = []
        self.nconn = 0
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.nconn += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(20)
        f = c.makefile("rb")
        try:
            self.dialogue(c, f)
        except OSError:
            pass
        finally:
            c.close()

    def dialogue(self, c, f):
        c.sendall(b"220 peer ESMTP\r\n")
        acc = []
        while True:
            l = f.readline(4096)
            if not l:
                return
            u = l.strip().upper()
            if u.startswith(b"EHLO"):
                c.sendall(b"250-peer\r\n" + (b"250-PIPELINING\r\n" if self.pipe else b"") + b"250 8BITMIME\r\n")
            elif u.startswith(b"MAIL"):
                acc = []
                c.sendall(b"250 2.1.0 ok\r\n")
            elif u.startswith(b"RCPT"):
                a = l.strip()[9:-1].decode()
                if a in self.rcpt:
                    c.sendall(self.rcpt[a] + b"\r\n")
                elif len(acc) >= self.cap:
                    c.sendall(self.toomany + b"\r\n")
                else:
                    acc.append(a)
                    c.sendall(b"250 2.1.5 ok\r\n")
            elif u == b"DATA":
                if not acc:
                    c.sendall(b"554 5.5.1 no valid recipients\r\n")
                    continue
                c.sendall(b"354 go\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                self.txns.append(acc)
                c.sendall(b"250 2.0.0 queued\r\n")
            elif u == b"RSET":
                acc = []
                c.sendall(b"250 ok\r\n")
            elif u == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.2 what\r\n")

    def close(self):
        self.ls.close()


def routes(port):
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write("example.org:[127.0.0.1]:%d tls=no\n" % port)


def send(rcpts):
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "10", "example.org", *rcpts],
                       input=b"Subject: x\n\nbody\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env.env, timeout=60)
    return r.returncode, [l.split(" ", 4) for l in r.stdout.decode().splitlines()]


# 552 to one RCPT: temporary
p = CapPeer(100, rcpt={"full@example.org": b"552 5.2.2 mailbox full"})
routes(p.port)
rc, out = send(["ok@example.org", "full@example.org"])
t.eq([o[:3] for o in out], [["ok", "ok@example.org", "2.0.0"], ["temp", "full@example.org", "4.2.2"]],
     "552 to RCPT: temporary (RFC 5321 4.5.3.1.10), class 4")
t.eq(rc, 111, "552 to RCPT: exit 111")
p.close()

rcpts = ["r%d@example.org" % i for i in range(7)]
for pipe in (True, False):
    for toomany in (b"452 4.5.3 too many recipients", b"552 5.5.3 too many recipients"):
        name = "%s, %s" % ("PIPELINING" if pipe else "no PIPELINING", toomany[:3].decode())
        p = CapPeer(3, toomany=toomany, pipelining=pipe)
        routes(p.port)
        rc, out = send(rcpts)
        t.eq((rc, [o[0] for o in out]), (0, ["ok"] * 7), name + ": a peer taking 3 a transaction: all 7 delivered")
        t.eq((p.nconn, p.txns), (1, [rcpts[0:3], rcpts[3:6], rcpts[6:]]),
             name + ": three transactions on one connection, each recipient once")
        p.close()

# a refusal of its own among them: settled, and the others still go
p = CapPeer(2, rcpt={"r1@example.org": b"550 5.1.1 no such user", "r4@example.org": b"451 4.3.0 later"})
routes(p.port)
rc, out = send(rcpts)
t.eq([o[0] for o in out], ["ok", "perm", "ok", "ok", "temp", "ok", "ok"], "cap 2 with a 550 and a 451: each its verdict")
t.eq(sorted(sum(p.txns, [])), sorted(rcpts[:1] + rcpts[2:4] + rcpts[5:]), "cap 2: each accepted recipient sent once")
p.close()

# a peer that takes none (452 to the first): temporary, no loop
p = CapPeer(0)
routes(p.port)
rc, out = send(rcpts[:3])
t.eq((rc, [o[0] for o in out], p.txns), (111, ["temp"] * 3, []), "a peer that takes no recipient: temp, once")
p.close()

# through queue-run (its smtp-send -B workers): a peer taking 2 a
# transaction, 552 for the rest; retries an hour apart, so only the first
# attempt can deliver in time: every recipient goes in it
p = CapPeer(2, toomany=b"552 5.5.3 too many recipients")
qenv = pmtest.Env()
with open(os.path.join(qenv.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % p.port)
qr = qenv.start([pmtest.bin("queue-run"), "-b", "3600"], stderr=open(qenv.path("queue-run.log"), "wb"))
five = ["q%d@remote.test" % i for i in range(5)]
pmtest.queue_add(qenv, "sender@example.test", five, b"Subject: five\n\nbody\n")
t.ok(pmtest.wait_for(lambda: not pmtest.queue_files(qenv), 30), "queue-run: a peer taking 2 a transaction, 552 after: queue empty",
     open(qenv.path("queue-run.log"), "rb").read().decode(errors="replace")[-1500:])
t.eq(sorted(sum(p.txns, [])), five, "queue-run: all five delivered in the first attempt, each once")
p.close()

t.done()
