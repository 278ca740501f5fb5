#!/usr/bin/python3
"""smtp-send and the names it asks DNS about (scripted DNS server).

- A UTF-8 (IDN) domain is looked up by its IDNA A-labels (xn--...), never
  sent raw to DNS, where no such name can exist (the mail bounced "domain
  does not exist"); its implicit MX is the A-label name too, and its route
  in the routes file (ASCII only) is found by that name.
- A name DNS cannot carry (over 253 bytes, a label over 63, an empty
  label) fails permanently at once (5.1.2); it was a "temporary DNS
  failure" retried for days.
- More MX hosts than smtp-send keeps (16), the kept ones without an
  address: temporary (hosts left out may answer); it was a permanent
  "no mail host of the domain has an address".
- Kept as they are: a truncated UDP answer is asked again over TCP, an
  MX target through a CNAME, an MX target that does not exist or has no
  address is skipped for the next, SERVFAIL is temporary, a trailing root
  dot is harmless."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer
from dnsstub import DNSStub

t = pmtest.TAP()
env = pmtest.Env(domains=())
p = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SMTPUTF8"]})
zone = {
    ("xn--caf-dma.test.", "MX"): [(10, "mx.xn--caf-dma.test.")], ("mx.xn--caf-dma.test.", "A"): ["127.0.0.1"],
    ("xn--bcher-kva.test.", "A"): ["127.0.0.1"],
    ("many.test.", "MX"): [(i, "h%d.many.test." % i) for i in range(50)], ("h49.many.test.", "A"): ["127.0.0.1"],
    ("tc.test.", "MX"): [(10, "mx.tc.test.")], ("mx.tc.test.", "A"): ["127.0.0.1"],
    ("cname.test.", "MX"): [(10, "alias.cname.test.")], ("alias.cname.test.", "CNAME"): "real.cname.test.",
    ("real.cname.test.", "A"): ["127.0.0.1"],
    ("skip.test.", "MX"): [(10, "gone.skip.test."), (20, "none.skip.test."), (30, "ok.skip.test.")],
    ("none.skip.test.", "TXT"): ["no address"], ("ok.skip.test.", "A"): ["127.0.0.1"],
    ("sf.test.", "*"): "SERVFAIL",
    ("dot.test.", "MX"): [(10, "mx.dot.test.")], ("mx.dot.test.", "A"): ["127.0.0.1"],
}
dns = DNSStub(zone)
dns.tc.add("tc.test.")


def send(domain, rcpt=None):
    e = dict(env.env)
    e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
    r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(p.port), "-w", "5", "-T", "no", "-f", "a@b.test",
                        domain, rcpt or "x@" + domain], input=b"Subject: x\r\n\r\nbody\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=120)
    return r.returncode, r.stdout.decode(errors="replace").rstrip("\n").split(" ", 4)


def asked(n):
    return [q[1] for q in dns.queries[n:]]


n = len(dns.queries)
rc, out = send("caf\u00e9.test")
t.eq((rc, out[0], out[3]), (0, "ok", "mx.xn--caf-dma.test"), "an IDN domain: its MX found by the A-label, delivered")
t.ok(all(q.isascii() for q in asked(n)) and "xn--caf-dma.test." in asked(n), "an IDN domain: no raw UTF-8 sent to DNS",
     asked(n))
t.ok(p.sessions and any("caf\u00e9.test".encode() in c for c in p.sessions[-1]["cmds"]),
     "the RCPT keeps the address as written (SMTPUTF8)",
     p.sessions[-1]["cmds"] if p.sessions else None)
rc, out = send("b\u00fccher.test")
t.eq((rc, out[0], out[3]), (0, "ok", "xn--bcher-kva.test"), "an IDN domain without MX: the implicit MX is the A-label name")

# the routes file names domains in ASCII: an IDN domain's route is found
# by its A-labels
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("xn--caf-dma.test:[127.0.0.1]:%d tls=no\n" % p.port)
e = dict(env.env)
e["PIPEMAIL_RESOLVER"] = "127.0.0.1:1"   # no DNS: the route alone
r = subprocess.run([pmtest.bin("smtp-send"), "-w", "5", "-f", "a@b.test", "caf\u00e9.test", "y@caf\u00e9.test"],
                   input=b"Subject: x\r\n\r\nbody\r\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
t.eq((r.returncode, r.stdout.decode().split(" ")[0]), (0, "ok"), "an IDN domain: its route, written with A-labels, used")
os.unlink(os.path.join(env.conf, "routes"))

for name, dom in (("a 256-byte domain", ("a" * 62 + ".") * 4 + "test"), ("a 64-byte label", "a" * 64 + ".test"),
                  ("an empty label", "a..test"), ("malformed UTF-8", "caf\udce9.test")):
    n = len(dns.queries)
    rc, out = send(dom)
    t.eq((rc, out[0], out[2]), (100, "perm", "5.1.2"), name + ": permanent 5.1.2 at once")
    t.eq(asked(n), [], name + ": no DNS query")

rc, out = send("many.test")
t.eq((rc, out[0]), (111, "temp"), "50 MX, the 16 kept without an address: temporary, not a bounce")

n = len(dns.queries)
rc, out = send("tc.test")
t.eq((rc, out[0]), (0, "ok"), "a truncated UDP answer: delivered")
t.ok(("tcp", "tc.test.", "MX") in dns.queries[n:], "a truncated UDP answer: asked again over TCP", dns.queries[n:])
rc, out = send("cname.test")
t.eq((rc, out[0], out[3]), (0, "ok", "alias.cname.test"), "an MX target that is a CNAME: followed")
rc, out = send("skip.test")
t.eq((rc, out[0], out[3]), (0, "ok", "ok.skip.test"), "MX targets without a name or an address: the next one")
rc, out = send("sf.test")
t.eq((rc, out[0], out[2]), (111, "temp", "4.4.3"), "SERVFAIL: temporary")
rc, out = send("dot.test.")
t.eq((rc, out[0]), (0, "ok"), "a trailing root dot: delivered")
dns.close()
p.close()
t.done()
