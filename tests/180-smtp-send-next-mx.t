#!/usr/bin/python3
"""smtp-send and every failure before MAIL (RFC 5321 5.1: try each
address of each MX host until a delivery attempt succeeds). Two MX hosts
on one port: "bad" on 127.0.0.2 (preference 10) fails in one way, "good"
on 127.0.0.1 (preference 20) accepts.

- A 4xx to EHLO is a temporary refusal by a server that knows EHLO
  (RFC 5321 4.1.1.1: one without it answers 500/502/550): the next host,
  not HELO on the same one. It went on with HELO there, without
  STARTTLS, SIZE or 8BITMIME, so an 8-bit message bounced (5.6.3) though
  the next MX host offered 8BITMIME. The next address of the same host
  likewise.
- A failure before MAIL from every host defers the recipients with a
  4.x.x status, whatever class the last reply had (a 554 greeting, a 5xx
  to HELO): it said "temp ... 5.7.1".
- Kept: a 4xx/5xx/421 greeting, 421 to EHLO, 500 then a 4xx HELO, 421 to
  STARTTLS, TLS required and STARTTLS refused or its handshake failed
  (a certificate that does not verify under -T verify too),
  a 4xx to the EHLO after TLS, a refused connection: each to the next
  host or address. A failed opportunistic handshake: the same address
  again without TLS. A 5xx to
  EHLO then 250 to HELO is an RFC 821 server: the mail goes there; so
  does a 454 to STARTTLS when TLS is opportunistic (RFC 3207 4)."""
import os, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import OverPeer
from dnsstub import DNSStub, TWO_MX, cannot_bind

t = pmtest.TAP()
env = pmtest.Env(domains=())
cert = env.make_cert()
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, os.path.join(env.conf, "tls", "key.pem"))
why = cannot_bind("127.0.0.2")
if why:
    t.skip_all(why)

zone = dict(TWO_MX)
zone.update({("addr.test.", "MX"): [(10, "mx.addr.test.")], ("mx.addr.test.", "A"): ["127.0.0.2", "127.0.0.1"]})
dns = DNSStub(zone)
MSG = b"Subject: x\r\n\r\nbody\r\n"
MSG8 = b"Subject: x\r\n\r\nbody \xc3\xa9t\xc3\xa9\r\n"


def run(bad, good, domain="two.test", tls="no", msg=MSG):
    """bad, good: OverPeer opts (None: nothing listens there).
    Returns (rc, result fields, bad peer, good peer)."""
    port = pmtest.free_port()
    pb = OverPeer(bad, host="127.0.0.2", port=port) if bad is not None else None
    pg = OverPeer(good, host="127.0.0.1", port=port) if good is not None else None
    e = dict(env.env)
    e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
    r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", "5", "-T", tls, "-C", cert,
                        "-f", "a@b.test", domain, "x@" + domain], input=msg,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    for p in (pb, pg):
        if p:
            p.close()
    return r.returncode, r.stdout.decode(errors="replace").rstrip("\n").split(" ", 4), pb, pg


def cmds(p):
    return [c.split(b" ")[0].upper() for s in p.sessions for c in s["cmds"]] if p else []


def delivered(p):
    return sum(len(s["data"]) for s in p.sessions) if p else 0


def next_host(name, bad, tls="no", msg=MSG, good=None, domain="two.test", via="good.two.test"):
    rc, out, pb, pg = run(bad, good if good is not None else {}, domain, tls, msg)
    t.eq((rc, out[0], out[3] if len(out) > 3 else None, delivered(pg), delivered(pb)), (0, "ok", via, 1, 0),
         name + ": delivered once by the next one")
    return pb


ehlo451 = {"over": {b"EHLO": [b"451 4.3.2 try later"]}}
pb = next_host("EHLO 451", ehlo451)
t.ok(b"HELO" not in cmds(pb) and b"MAIL" not in cmds(pb), "... no HELO, no MAIL to the host that said 451", cmds(pb))
pb = next_host("an 8-bit message, EHLO 450 at the first host", {"over": {b"EHLO": [b"450 busy"]}}, msg=MSG8)
t.ok(b"HELO" not in cmds(pb), "... not sent to it without 8BITMIME", cmds(pb))
next_host("EHLO 451 at the first address of the host", ehlo451, domain="addr.test", via="mx.addr.test")

rc, out, pb, pg = run(ehlo451, ehlo451)
t.eq((rc, out[0], out[2][:2]), (111, "temp", "4."), "EHLO 451 from every host: deferred, 4.x.x")
t.ok(b"HELO" not in cmds(pb) + cmds(pg), "... no HELO to either", cmds(pb) + cmds(pg))

g554 = {"greeting": b"554 5.7.1 no service for you"}
next_host("greeting 554", g554)
rc, out, pb, pg = run(g554, g554)
t.eq((rc, out[0], out[2]), (111, "temp", "4.7.1"), "greeting 554 5.7.1 from every host: deferred (4.7.1), not bounced")
t.ok("no service for you" in out[-1], "... the reply kept in the text", out)
helo554 = {"over": {b"EHLO": [b"502 5.5.2 no"], b"HELO": [b"554 5.7.1 not you"]}}
next_host("EHLO 502, HELO 554", helo554)
rc, out, pb, pg = run(helo554, helo554)
t.eq((rc, out[0], out[2]), (111, "temp", "4.7.1"), "EHLO 502 and HELO 554 from every host: deferred (4.7.1)")

next_host("greeting 421", {"greeting": b"421 4.3.2 busy"})
next_host("greeting 450", {"greeting": b"450 later"})
next_host("EHLO 421", {"over": {b"EHLO": [b"421 4.3.2 closing"]}})
next_host("EHLO 500, HELO 451", {"over": {b"EHLO": [b"500 what"], b"HELO": [b"451 later"]}})
next_host("no listener on the first host", None)
next_host("no listener on the first address", None, domain="addr.test", via="mx.addr.test")
next_host("STARTTLS 421", {"starttls": sctx, "over": {b"STARTTLS": [b"421 4.3.2 closing"]}}, tls="try")
next_host("TLS required, STARTTLS 454", {"starttls": sctx, "over": {b"STARTTLS": [b"454 4.7.0 no tls"]}},
          tls="must", good={"starttls": sctx})
next_host("TLS required, no STARTTLS offered", {}, tls="must", good={"starttls": sctx})
next_host("TLS required, the handshake fails", {"starttls": "broken"}, tls="must", good={"starttls": sctx})
rc, out, pb, pg = run({"starttls": "broken"}, {}, tls="try")
t.eq((rc, out[3], len(pb.sessions), delivered(pb)), (0, "bad.two.test", 2, 1),
     "opportunistic TLS, the handshake fails: the same host again in plain (RFC 3207 4, Postfix)")
next_host("EHLO after TLS 451", {"starttls": sctx, "over": {b"EHLO": [None, b"451 4.3.2 later"]}}, tls="try")

# certificate verification (-T verify, -C the good host's own
# certificate): the first host's does not verify: the next host, never
# the same one in plain
gcert, gkey = env.path("good.pem"), env.path("good.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=good.two.test", "-addext", "subjectAltName=DNS:good.two.test", "-keyout", gkey,
                "-out", gcert], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
gctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
gctx.load_cert_chain(gcert, gkey)
port = pmtest.free_port()
pb, pg = OverPeer({"starttls": sctx}, host="127.0.0.2", port=port), OverPeer({"starttls": gctx}, host="127.0.0.1", port=port)
e = dict(env.env)
e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-4", "-p", str(port), "-w", "5", "-T", "verify", "-C", gcert,
                    "-f", "a@b.test", "two.test", "x@two.test"], input=MSG, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, env=e, timeout=60)
pb.close(), pg.close()
out = r.stdout.decode().split(" ", 4)
t.eq((r.returncode, out[3], delivered(pg), delivered(pb), len(pb.sessions)), (0, "good.two.test", 1, 0, 1),
     "TLS verified: a certificate that does not verify moves on to the next host, no plain retry")
t.ok(pg.sessions and pg.sessions[0]["tls"], "... delivered over TLS")

rc, out, pb, pg = run({"over": {b"EHLO": [b"500 what"]}}, {})
t.eq((rc, out[3], delivered(pb)), (0, "bad.two.test", 1), "EHLO 500, HELO 250: an RFC 821 server, delivered there")
rc, out, pb, pg = run({"starttls": sctx, "over": {b"STARTTLS": [b"454 4.7.0 no tls"]}}, {}, tls="try")
t.eq((rc, out[3], delivered(pb)), (0, "bad.two.test", 1), "opportunistic TLS, STARTTLS 454: delivered there in plain")
dns.close()
t.done()
