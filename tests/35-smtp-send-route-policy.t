#!/usr/bin/python3
"""smtp-send's route policy when the route names no host: a line
'example.test: tls=must' (or tls=verify) keeps the MX lookup but must
still impose its STARTTLS policy on the MX hosts, so that mail to that
domain never goes out in plaintext or to an unverified peer."""
import os, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer
from dnsstub import DNSStub

t = pmtest.TAP()
env = pmtest.Env(domains=())
conf = env.conf
dns = DNSStub({("example.test.", "MX"): [(10, "mx.example.test.")],
               ("mx.example.test.", "A"): ["127.0.0.1"]})


def routes(text):
    with open(os.path.join(conf, "routes"), "w") as f:
        f.write(text)


def send(port, args=()):
    e = dict(env.env)
    e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % dns.port
    r = subprocess.run([pmtest.bin("smtp-send"), "-4", "-p", str(port), "-w", "5", "-f", "a@b.test", *args,
                        "example.test", "x@example.test"], input=b"Subject: x\r\n\r\nbody\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace").split(" ", 4), r.stderr.decode(errors="replace")


def sent(p):
    return sum(len(s["data"]) for s in p.sessions)


# the MX host offers no STARTTLS
p = SMTPPeer({})
routes("example.test: tls=must\n")
rc, out, err = send(p.port)
t.eq((rc, out[0], out[2]), (111, "temp", "4.7.4"), "MX route with tls=must, no STARTTLS offered: temp 4.7.4")
t.eq(sent(p), 0, "tls=must on an MX route: nothing sent in plaintext")
routes("example.test: tls=verify\n")
rc, out, err = send(p.port)
t.eq((rc, out[0]), (111, "temp"), "MX route with tls=verify, no STARTTLS offered: temp")
t.eq(sent(p), 0, "tls=verify on an MX route: nothing sent in plaintext")
routes("example.test:\n")
rc, out, err = send(p.port)
t.eq((rc, out[0]), (0, "ok"), "a bare MX route keeps smtp-send's default (opportunistic): delivered")
p.close()

# the MX host offers STARTTLS with a self-signed certificate
cert = env.make_cert()
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, os.path.join(conf, "tls", "key.pem"))
p = SMTPPeer({"starttls": sctx})
routes("example.test: tls=verify\n")
rc, out, err = send(p.port, ("-C", "/etc/ssl/certs/ca-certificates.crt"))
t.eq((rc, out[0]), (111, "temp"), "MX route with tls=verify, unverifiable certificate: temp")
t.eq(sent(p), 0, "tls=verify on an MX route: nothing sent to the unverified peer")
routes("example.test: tls=no\n")
rc, out, err = send(p.port)
t.ok(rc == 0 and not any(s["tls"] for s in p.sessions[-1:]), "MX route with tls=no: no STARTTLS", err)
p.close()

dns.close()
t.done()
