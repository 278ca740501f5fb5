#!/usr/bin/python3
# tls-serve takes its default pair from CERTFILE and KEYFILE, as s6-tlsd
# and sslserver do, when neither -c nor -k is given: a run script moved
# from those serves the same certificate. -c/-k still win; one variable
# without the other is refused (exit 111, naming it) rather than paired
# with a file from elsewhere; the key's mode rule holds for KEYFILE; prog
# does not see the variables.
import os, socket, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())
default = env.make_cert()
c, k = env.path("other.pem"), env.path("other.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=other.example", "-addext", "subjectAltName=DNS:other.example",
                "-keyout", k, "-out", c], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.chmod(k, 0o600)
pair = {"CERTFILE": c, "KEYFILE": k}
show = 'printf "%s\\n" "$(env | grep -c -e ^CERTFILE= -e ^KEYFILE=)"'


def served(port):
    """(CN served, what prog printed) for one implicit-TLS connection."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 10) as raw:
        with ctx.wrap_socket(raw) as s:
            der = s.getpeercert(binary_form=True)
            line = pmtest.Lines(s).line()
    pem = ssl.DER_cert_to_PEM_cert(der)
    subj = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem.encode(),
                          stdout=subprocess.PIPE, check=True).stdout.decode()
    return subj.strip().rsplit("=", 1)[-1].strip(), line


port = env.server(["tls-serve", "-i", "/bin/sh", "-c", show], env=pair)
t.eq(served(port), ("other.example", "0"), "CERTFILE/KEYFILE name the default pair; prog sees neither")

port = env.server(["tls-serve", "-i", "-c", default, "-k", os.path.join(env.conf, "tls", "key.pem"),
                   "/bin/sh", "-c", show], env=pair)
t.eq(served(port), ("localhost", "0"), "-c and -k win over CERTFILE/KEYFILE")

for name, only in (("CERTFILE", {"CERTFILE": c}), ("KEYFILE", {"KEYFILE": k})):
    r = env.run(["tls-serve", "-C"], env=only, check=False)
    err = r.stderr.decode(errors="replace")
    t.ok(r.returncode == 111 and ("unable to use " + name) in err, name + " alone: refused, exit 111, named",
         "rc=%d %s" % (r.returncode, err))

os.chmod(k, 0o644)
r = env.run(["tls-serve", "-C"], env=pair, check=False)
err = r.stderr.decode(errors="replace")
t.ok(r.returncode == 111 and k in err and "mode 0644" in err, "KEYFILE under the key's mode rule",
     "rc=%d %s" % (r.returncode, err))
os.chmod(k, 0o600)
r = env.run(["tls-serve", "-C"], env=pair, check=False)
t.eq(r.returncode, 0, "tls-serve -C with a good CERTFILE/KEYFILE pair: 0")
t.done()
