#!/usr/bin/python3
# tls-serve reads the key as root, then drops to -u (or $UID/$GID) before
# prog runs: prog has the target ids, cannot read the key file, and cannot
# read tls-serve's memory (it is not dumpable); TLS still works from the
# key held in memory. Run as root only (CI does).
import os, socket, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import Lines

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root")
env = pmtest.Env(domains=())
ca = env.make_cert()
key = os.path.join(env.conf, "tls", "key.pem")
ctx = pmtest.tls_context(ca)
env.env.pop("UID", None)
env.env.pop("GID", None)
who = env.path("who.py")
with open(who, "w") as f:
    f.write("""import os
def tryopen(p):
    try:
        open(p, "rb").read(1)
        return "readable"
    except OSError:
        return "denied"
pp = os.getppid()
uid = [l.split()[1:] for l in open("/proc/%d/status" % pp) if l.startswith("Uid:")][0]
print("uid=%d gid=%d groups=%s key=%s mem=%s parent_uid=%s" % (os.getuid(), os.getgid(),
      ",".join(map(str, os.getgroups())) or "-", tryopen(KEY), tryopen("/proc/%d/mem" % pp), ",".join(uid)))
""".replace("KEY", repr(key)))
os.chmod(who, 0o644)


def session(args, extra=None):
    port = env.server(["tls-serve", "-i"] + args + ["/usr/bin/python3", who], env=extra)
    c = Lines(socket.create_connection(("127.0.0.1", port), 10))
    try:
        c.starttls(ctx)
        return c.line()
    except OSError:
        return None


nobody = "uid=65534 gid=65534 groups=65534 key=denied mem=denied parent_uid=65534,65534,65534,65534"
t.eq(session(["-u", "nobody"]), nobody, "-u nobody: prog and tls-serve run as nobody; key file and memory out of reach")
t.eq(session(["-u", "65534:65534"]), nobody, "-u 65534:65534 (numeric)")
t.eq(session([], {"UID": "65534", "GID": "65534"}), nobody, "$UID/$GID (envuidgid) when -u is absent")
got = session([], {"UID": "", "GID": ""})
t.ok(got is None, "empty $UID refused (no session)", got)
got = session([])
t.ok(got and got.startswith("uid=0 "), "no -u and no $UID: stays root (documented)", got)

# without root, the key cannot be loaded at all
r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                    pmtest.bin("tls-serve"), "true"], env=env.env, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=20)
t.ok(r.returncode == 111 and b"unable to load" in r.stderr, "as nobody the key is unreadable: exit 111", r.stderr)
t.done()
