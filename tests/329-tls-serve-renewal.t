#!/usr/bin/python3
# A renewed certificate and key take effect at the next connection, with
# no restart (INSTALL, section 4): tcpserver runs tls-serve once per
# connection and tls-serve loads both each time. A session already open
# goes on with the old pair. Installed the way INSTALL says (a new file
# renamed into place), and also rewritten in place.
import os, shutil, socket, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())
tls = os.path.join(env.conf, "tls")


def newpair(tag):
    cert, key = env.path(tag + ".pem"), env.path(tag + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return cert, key


def install(pair, rename=True):
    for src, name in zip(pair, ("cert.pem", "key.pem")):
        dst = os.path.join(tls, name)
        if rename:
            shutil.copy(src, dst + ".new")
            os.rename(dst + ".new", dst)
        else:
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())


def der(pem):
    with open(pem) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def session(ca):
    raw = socket.create_connection(("127.0.0.1", port), 10)
    s = pmtest.tls_context(ca).wrap_socket(raw, server_hostname="localhost")
    return s


os.makedirs(tls, exist_ok=True)
a, b, c = newpair("a"), newpair("b"), newpair("c")
install(a)
port = env.server(["tls-serve", "-i", "cat"])

s1 = session(a[0])
t.eq(s1.getpeercert(binary_form=True), der(a[0]), "the first certificate is served")
install(b)
s2 = session(b[0])
t.eq(s2.getpeercert(binary_form=True), der(b[0]), "after a renewal (renamed into place) the next connection gets the new one")
s1.sendall(b"still here\n")
t.eq(s1.recv(100), b"still here\n", "the session opened before the renewal goes on")
install(c, rename=False)
s3 = session(c[0])
t.eq(s3.getpeercert(binary_form=True), der(c[0]), "rewritten in place: the next connection gets it too")
for s in (s1, s2, s3):
    s.close()
t.done()
