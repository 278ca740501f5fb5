#!/usr/bin/python3
# tls-serve offers in TLS 1.2 only suites with forward secrecy and an AEAD
# cipher (ECDHE with AES-GCM or ChaCha20-Poly1305), what libtls's "secure"
# list means: with Debian's libretls "secure" left OpenSSL's default list
# in place, so a TLS 1.2 client could get static RSA key exchange (no
# forward secrecy) or CBC with SHA-1. TLS 1.3 is unaffected.
import os, socket, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())
# an RSA certificate, as many sites have: static RSA key exchange needs one
ca, key = env.path("rsa.pem"), env.path("rsa.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", ca], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.chmod(key, 0o600)
port = env.server(["tls-serve", "-i", "-c", ca, "-k", key, "sh", "-c", "echo hello"])


def handshake(ciphers=None, maxver=ssl.TLSVersion.TLSv1_2):
    """The cipher agreed, or None when the handshake fails."""
    ctx = pmtest.tls_context(ca, maxver=maxver)
    if ciphers:
        ctx.set_ciphers(ciphers)
    raw = socket.create_connection(("127.0.0.1", port), 10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError):
        raw.close()
        return None
    name = s.cipher()[0]
    s.close()
    return name


for c in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"):
    t.eq(handshake(c), c, "TLS 1.2 with %s" % c)
for c in ("AES128-SHA", "AES256-GCM-SHA384", "AES128-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384",
          "CAMELLIA128-SHA"):
    t.eq(handshake(c), None, "TLS 1.2 with %s refused" % c)
t.ok(handshake(maxver=None) in ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"),
     "TLS 1.3 still works")
t.done()
