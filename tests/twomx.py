"""smtp-send against two MX hosts on one port (dnsstub.TWO_MX): "bad" on
127.0.0.2 (preference 10) fails in some way, "good" on 127.0.0.1 (20)
accepts. Each is an OverPeer (smtppeer.py) with the opts a test gives.

    mx = TwoMX(t, env)             # skips the test where 127.0.0.2 cannot be bound
    rc, out, pb, pg = mx.run(bad_opts, good_opts, rcpts)
    rc, blocks, pb, pg = mx.batch(bad_opts, good_opts, senders)   # -B
    mx.err                         # the last run's stderr (log lines)
"""
import subprocess
import pmtest
from smtppeer import OverPeer
from dnsstub import DNSStub, TWO_MX, cannot_bind

MSG = b"Subject: x\r\n\r\nbody\r\n"
NOPIPE = [b"8BITMIME", b"SIZE 10000000"]


def delivered(p):
    """messages with a body (an empty DATA after a refused MAIL is none)"""
    return sum(1 for s in p.sessions for d in s["data"] if d)


def cmds(p):
    return [c.split(b" ")[0].upper() for s in p.sessions for c in s["cmds"]]


class TwoMX:
    def __init__(self, t, env):
        why = cannot_bind("127.0.0.2")
        if why:
            t.skip_all(why)
        self.env = env
        self.dns = DNSStub(TWO_MX)
        self.e = dict(env.env)
        self.e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % self.dns.port
        self.err = ""

    def _peers(self, bad, good):
        """good None: nothing listens there (the connection is refused)"""
        port = pmtest.free_port()
        return (port, OverPeer(bad, host="127.0.0.2", port=port),
                None if good is None else OverPeer(good, host="127.0.0.1", port=port))

    @staticmethod
    def _close(*peers):
        for p in peers:
            if p is not None:
                p.close()

    def _send(self, port, argv, inp, wait):
        r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", str(wait), "-T", "no"] + argv,
                           input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.e, timeout=60)
        self.err = r.stderr.decode(errors="replace")
        return r

    def run(self, bad, good, rcpts=("x@two.test",), domain="two.test", msg=MSG, wait=5):
        """one job. Returns (rc, [result fields], bad peer, good peer)"""
        port, pb, pg = self._peers(bad, good)
        r = self._send(port, ["-f", "a@b.test", domain] + list(rcpts), msg, wait)
        self._close(pb, pg)
        return r.returncode, [l.split(" ", 4) for l in r.stdout.decode(errors="replace").splitlines()], pb, pg

    def batch(self, bad, good, senders, wait=5):
        """-B: one job for x<k>@two.test a sender. Returns (rc, [[result
        fields] a job], bad peer, good peer)"""
        port, pb, pg = self._peers(bad, good)
        msg = self.env.path("m")
        with open(msg, "wb") as f:
            f.write(MSG)
        inp = "".join("%s two.test %s x%d@two.test\n" % (msg, s, k) for k, s in enumerate(senders))
        r = self._send(port, ["-B"], inp.encode(), wait)
        self._close(pb, pg)
        blocks = [[l.split(" ", 4) for l in b.splitlines()] for b in r.stdout.decode().split(".\n")[:-1]]
        return r.returncode, blocks, pb, pg

    def close(self):
        self.dns.close()
