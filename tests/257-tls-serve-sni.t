#!/usr/bin/python3
# tls-serve serves several certificates by SNI, the way s6-tlsd does:
# CERTFILE:name / KEYFILE:name in the environment add a keypair beside the
# default one (-c/-k, here conf/tls). A client asking for mail.a.example
# gets that certificate, for mail.b.example the other, a name under a
# wildcard certificate that one, an unknown name or no SNI the default.
# prog finds the name in SSL_TLS_SNI_SERVERNAME (implicit TLS) or among the
# facts on SSLCTLFD (STARTTLS), lowercased, and only a host name; the
# CERTFILE:/KEYFILE: variables do not reach it; the log line has sni=.
import os, socket, ssl, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
default = env.make_cert()


def cert(tag, name):
    c, k = env.path(tag + ".pem"), env.path(tag + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
                    "-keyout", k, "-out", c], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(k, 0o600)
    return c, k


pairs = {"mail.a.example": cert("a", "mail.a.example"),
         "mail.b.example": cert("b", "mail.b.example"),
         "*.w.example": cert("w", "*.w.example")}
sni_env = {}
for name, (c, k) in pairs.items():
    sni_env["CERTFILE:" + name] = c
    sni_env["KEYFILE:" + name] = k
bundle = env.path("all.pem")
with open(bundle, "w") as out:
    for p in [default] + [c for c, _ in pairs.values()]:
        out.write(open(p).read())

# implicit TLS: prog says what it sees
show = 'printf "%s %s\\n" "${SSL_TLS_SNI_SERVERNAME-unset}" "$(env | grep -c -e ^CERTFILE: -e ^KEYFILE:)"'
port = env.server(["tls-serve", "-i", "/bin/sh", "-c", show], env=dict(sni_env, SSL_TLS_SNI_SERVERNAME="stale.example"))


def context():
    ctx = ssl.create_default_context(cafile=bundle)
    ctx.check_hostname = False   # which certificate comes is the question
    return ctx


def cn(s):
    return dict(x[0] for x in s.getpeercert()["subject"]).get("commonName")


def session(name):
    """(CN served, what prog printed) for one connection asking for name."""
    with socket.create_connection(("127.0.0.1", port), 10) as raw:
        with context().wrap_socket(raw, server_hostname=name) as s:
            s.settimeout(10)
            line = b""
            while not line.endswith(b"\n") and len(line) < 1000:
                b = s.recv(1000)
                if not b:
                    break
                line += b
            return cn(s), line.decode(errors="replace").strip()


def check(name, want_cn, want_env, what):
    try:
        got = session(name)
    except (OSError, ssl.SSLError) as e:
        got = e
    t.eq(got, (want_cn, want_env + " 0"), what)


check("mail.a.example", "mail.a.example", "mail.a.example", "SNI mail.a.example: its certificate, name in env")
check("mail.b.example", "mail.b.example", "mail.b.example", "SNI mail.b.example: the other certificate")
check("imap.w.example", "*.w.example", "imap.w.example", "SNI under a wildcard certificate: that one")
check("other.example", "localhost", "other.example", "an unknown name: the default certificate")
check(None, "localhost", "unset", "no SNI: the default certificate, SSL_TLS_SNI_SERVERNAME unset")
check("bad_name.example", "localhost", "unset", "a name with a byte no host name has: not passed on")


def s_client(name):
    """(CN served, what prog printed) through openssl s_client -servername,
    which sends a name as it is given (python lowercases and checks it)."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", name, "-quiet"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    out = r.stdout.decode(errors="replace").splitlines()
    cns = [l.split("CN = ", 1)[1] for l in out if l.startswith("depth=0 ") and "CN = " in l]
    rest = [l for l in out if not l.startswith(("depth=", "verify "))]
    return (cns[0] if cns else None, rest[0].strip() if rest else None)


t.eq(s_client("MAIL.B.Example"), ("mail.b.example", "mail.b.example 0"),
     "SNI in capitals: the certificate all the same, the name lowercased")
t.eq(s_client("a" * 64 + ".example"), ("localhost", "unset 0"),
     "a label over 63 bytes: the default certificate, the name not passed on")

end = time.monotonic() + 10
while True:
    logs = [l for l in log_event(env.log(port), "conn") if l.get("tls")]   # not tcpserver's probe
    if len(logs) >= 8 or time.monotonic() > end:
        break
    time.sleep(0.05)
t.eq([l.get("sni") for l in logs], ["mail.a.example", "mail.b.example", "imap.w.example", "other.example", None, None,
                                     "mail.b.example", None],
     "the log line carries sni= when there is one")

# STARTTLS: the name comes with the facts on SSLCTLFD, not in the environment
prog = env.path("facts.py")
with open(prog, "w") as f:
    f.write("""import os
before = os.environ.get("SSL_TLS_SNI_SERVERNAME", "unset")
ctl = int(os.environ["SSLCTLFD"])
os.write(ctl, b"Y")
facts = b""
while not facts.endswith(b"\\0\\0") and len(facts) < 4096:
    b = os.read(ctl, 4096)
    if not b:
        break
    facts += b
names = [r.split(b"=", 1)[1].decode() for r in facts.split(b"\\0") if r.startswith(b"SSL_TLS_SNI_SERVERNAME=")]
os.write(int(os.environ["SSLWRITEFD"]), ("%s %s\\n" % (before, ",".join(names) or "none")).encode())
""")
port = env.server(["tls-serve", sys.executable, prog], env=dict(sni_env, SSL_TLS_SNI_SERVERNAME="stale.example"))
for name, want_cn, want in (("mail.b.example", "mail.b.example", "mail.b.example"), (None, "localhost", "none")):
    try:
        got = session(name)
    except (OSError, ssl.SSLError) as e:
        got = e
    t.eq(got, (want_cn, "unset " + want),
         "STARTTLS, SNI %s: %s served, facts carry %s, nothing stale in the environment" % (name, want_cn, want))
t.done()
