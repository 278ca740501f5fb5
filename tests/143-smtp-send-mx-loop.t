#!/usr/bin/python3
"""smtp-send and an MX that is this host (RFC 5321 5.1): on the SMTP
port, an MX host with one of this host's addresses is not tried, nor any
host of its preference or above; when no host is left the mail fails
permanently, "loops back to myself" (5.4.6, as Postfix says it). It was
handed to our own server, which refused to relay it (a bounce that says
nothing of the cause) or, for a client it lets relay, queued it again
until the hop limit. A lower preference host is still tried; on another
port (a test, a special route) the check does not apply."""
import os, socket, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from dnsstub import DNSStub

t = pmtest.TAP()
env = pmtest.Env(domains=())
zone = {
    ("loop.test.", "MX"): [(10, "self.loop.test.")], ("self.loop.test.", "A"): ["127.0.0.1"],
    ("impl.test.", "A"): ["127.0.0.1"],
    ("two.test.", "MX"): [(10, "self.two.test."), (20, "backup.two.test.")],
    ("self.two.test.", "A"): ["127.0.0.2"], ("backup.two.test.", "A"): ["198.51.100.1"],
    ("first.test.", "MX"): [(5, "far.first.test."), (10, "self.first.test.")],
    ("far.first.test.", "A"): ["198.51.100.1"], ("self.first.test.", "A"): ["127.0.0.1"],
    ("zero.test.", "MX"): [(10, "mx.zero.test.")], ("mx.zero.test.", "A"): ["0.0.0.0"],
    ("same.test.", "MX"): [(10, "other.same.test."), (10, "self.same.test.")],
    ("other.same.test.", "A"): ["198.51.100.1"], ("self.same.test.", "A"): ["127.0.0.1"],
}
# 198.51.100.1 (TEST-NET-2) stands for another host: nothing answers
# there, so trying it is a quick temporary failure
dns = DNSStub(zone)


def send(domain, port="25"):
    e = dict(env.env)
    e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
    r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", port, "-w", "2", "-T", "no", "-f", "a@b.test",
                        domain, "x@" + domain], input=b"Subject: x\r\n\r\nbody\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace").rstrip("\n").split(" ", 4), r.stderr.decode(errors="replace")


rc, out, err = send("loop.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.6"), "the only MX host is this host: permanent 5.4.6")
t.ok("loops back to myself" in out[-1], "... and says so", out)
t.ok("ip=127.0.0.1" not in err, "... without a connection to ourselves", err)

rc, out, err = send("impl.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.6"), "the implicit MX is this host: permanent 5.4.6")

rc, out, err = send("two.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.6"), "this host (127.0.0.2) at 10, a backup at 20: both dropped, 5.4.6")
t.ok("198.51.100.1" not in err, "... the backup behind us not tried", err)
rc, out, err = send("zero.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.6"), "an MX host at 0.0.0.0 (this host too): 5.4.6")

# another host of this host's preference: dropped too, whichever the
# shuffle of equal preferences puts first (RFC 5321 5.1: "greater than or
# equal to"); each try is a fresh shuffle
tried = 0
for _ in range(8):
    rc, out, err = send("same.test")
    tried += "198.51.100.1" in err or out[2] != "5.4.6"
t.eq(tried, 0, "a host of this host's preference: never tried, 5.4.6 (8 tries)")

rc, out, err = send("first.test")
t.eq((rc, out[0]), (111, "temp"), "a host at 5 before this host at 10: tried (temporary when it fails)")
t.ok("ip=198.51.100.1" in err and "ip=127.0.0.1" not in err, "... and only that one", err)

# on another port our own addresses are fair game (tests, special routes)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
port = str(s.getsockname()[1])
s.close()
rc, out, err = send("loop.test", port)
t.eq((rc, out[0]), (111, "temp"), "another port: no loop check, the host tried")
t.ok("ip=127.0.0.1" in err, "... a connection attempted", err)
dns.close()
t.done()
