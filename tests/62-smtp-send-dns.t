#!/usr/bin/python3
"""smtp-send's MX routing against a real DNS server (nsd) on 127.0.0.1:
preference order, a 4xx greeting or a dead host moves to the next MX,
random order among equal preferences, the implicit MX, null MX (RFC 7505),
a domain that does not exist, AAAA before A, an MX that names an IP
address."""
import os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
if not os.path.exists(NSD):
    t.skip_all("no nsd (Debian package nsd)")
env = pmtest.Env(domains=())
d = env.dir
dnsport = pmtest.free_port()

# two peers on the same port, on 127.0.0.1 and 127.0.0.2
port = pmtest.free_port()
good = SMTPPeer({}, host="127.0.0.1", port=port)
try:
    other = SMTPPeer({"greeting": b"421 4.3.2 busy"}, host="127.0.0.2", port=port)
except OSError as e:
    t.skip_all("cannot bind 127.0.0.2: %s" % e)

zone = """$ORIGIN test.
$TTL 60
@        SOA ns.test. admin.test. 1 3600 600 86400 60
@        NS  ns.test.
ns       A   127.0.0.1
mx-lo    A   127.0.0.1
mx-two   A   127.0.0.2
mx-dead  A   127.0.0.3
multi    MX  20 mx-lo.test.
multi    MX  10 mx-two.test.
dead     MX  10 mx-dead.test.
dead     MX  30 mx-lo.test.
equal    MX  10 mx-lo.test.
equal    MX  10 mx-two.test.
implicit A   127.0.0.1
nullmx   MX  0 .
nohost   MX  10 missing.test.
noaddr   TXT "no mail here"
both     MX  10 dual.test.
dual     AAAA ::1
dual     A   127.0.0.1
""" + "".join("many     MX  50 d%d.test.\nd%d       A   127.0.0.3\n" % (i, i) for i in range(20)) + """many     MX  1 mx-lo.test.
crowd    MX  10 crowd6.test.
crowd6   A   127.0.0.1
""" + "".join("crowd6   AAAA ::ffff:127.0.1.%d\n" % i for i in range(1, 21)) + """v6only   MX  10 only6.test.
numeric  MX  10 127.0.0.1.
numfb    MX  10 127.0.0.2.
numfb    MX  20 mx-lo.test.
""" + "".join("only6    AAAA ::ffff:127.0.2.%d\n" % i for i in range(1, 21))
with open(os.path.join(d, "test.zone"), "w") as f:
    f.write(zone)
with open(os.path.join(d, "nsd.conf"), "w") as f:
    f.write("""server:
  ip-address: 127.0.0.1
  port: %d
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "%s"
  pidfile: "%s/nsd.pid"
  database: ""
  xfrdfile: "%s/xfrd.state"
  zonelistfile: "%s/zone.list"
  logfile: "%s/nsd.log"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: test.
  zonefile: test.zone
""" % (dnsport, d, d, d, d, d))
ns = env.start([NSD, "-d", "-c", os.path.join(d, "nsd.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready = False
for _ in range(100):
    r = subprocess.run(["/usr/bin/python3", "-c", """
import socket,struct,sys
q=struct.pack('>HHHHHH',1,0x100,1,0,0,0)+b'\\x02ns\\x04test\\x00'+struct.pack('>HH',1,1)
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.2);s.sendto(q,('127.0.0.1',%d))
sys.exit(0 if s.recv(512) else 1)""" % dnsport], stderr=subprocess.DEVNULL)
    if r.returncode == 0:
        ready = True
        break
    time.sleep(0.1)
if not t.ok(ready, "nsd answers on 127.0.0.1:%d" % dnsport):
    t.diag(open(os.path.join(d, "nsd.log")).read() if os.path.exists(os.path.join(d, "nsd.log")) else "no log")
    t.done()

senv = {"PIPEMAIL_RESOLVER": "127.0.0.1:%d" % dnsport}


def send(domain, rcpt=None, args=()):
    e = dict(env.env)
    e.update(senv)
    r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-p", str(port), "-w", "5", "-f", "a@b.test", *args, domain,
                        rcpt or ("x@" + domain)], input=b"Subject: dns\r\n\r\nbody\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    out = r.stdout.decode().split(" ", 4)
    return r.returncode, out, r.stderr.decode()


def count(p):
    return sum(1 for s in p.sessions for x in s["data"] if x)


rc, out, err = send("multi.test")
t.eq((rc, out[0], out[3]), (0, "ok", "mx-lo.test"), "MX 10 gives 421 at the greeting: delivered to MX 20")
t.eq((other.nconn, count(good)), (1, 1), "preference order: MX 10 tried first, then MX 20")

rc, out, err = send("dead.test")
t.eq((rc, out[3]), (0, "mx-lo.test"), "MX 10 unreachable: delivered to MX 30")
t.ok("ip=127.0.0.3" in err and "result=next" in err, "the dead host was tried first", err)

before_good, before_other = good.nconn, other.nconn
for i in range(12):
    send("equal.test")
t.ok(good.nconn > before_good and other.nconn > before_other,
     "equal preferences: both hosts tried first at some point (%d, %d)" % (good.nconn - before_good, other.nconn - before_other))

rc, out, err = send("implicit.test")
t.eq((rc, out[0], out[3]), (0, "ok", "implicit.test"), "no MX: the domain's A record (implicit MX)")

rc, out, err = send("nullmx.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.1.10"), "null MX: perm 5.1.10")

rc, out, err = send("nonexistent.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.1.2"), "NXDOMAIN: perm 5.1.2")

rc, out, err = send("noaddr.test")
t.eq((rc, out[0]), (100, "perm"), "no MX and no address: perm")

rc, out, err = send("nohost.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.4"), "the only MX host does not exist: perm 5.4.4")

# an MX names a host: an IP address in its place is not connected to
rc, out, err = send("numeric.test")
t.eq((rc, out[0], out[2]), (100, "perm", "5.4.4"), "the only MX is an IP address: perm 5.4.4")
t.ok("IP address" in out[4], "the reason says why", out)
before_other = other.nconn
rc, out, err = send("numfb.test")
t.eq((rc, out[0], out[3], other.nconn - before_other), (0, "ok", "mx-lo.test", 0),
     "MX 10 is an IP address: skipped, delivered to MX 20")

# more MX records than smtp-send keeps: the most preferred is never the one dropped
rc, out, err = send("many.test")
t.eq((rc, out[0], out[3]), (0, "ok", "mx-lo.test"), "21 MX records, the best listed last: delivered to it")
t.ok("ip=127.0.0.3" not in err, "no less preferred host tried first", err[:300])

rc, out, err = send("both.test")
t.eq((rc, out[0]), (0, "ok"), "AAAA and A: delivered")
t.ok(err.find("ip=::1") < err.find("ip=127.0.0.1") and "ip=::1" in err, "AAAA tried before A", err)
rc, out, err = send("both.test", args=("-4",))
t.ok(rc == 0 and "ip=::1" not in err, "-4: IPv4 only", err)

# twenty AAAA records (none answering) do not crowd out the host's A record
rc, out, err = send("crowd.test")
t.ok((rc, out[0]) == (0, "ok"), "20 dead AAAA and one A: delivered over IPv4", err[-600:])
t.eq(err.count("result=next"), 15, "the one A record kept its place; AAAA took the other 15")
# with no A record the AAAA records have all the room (16 kept per host)
rc, out, err = send("v6only.test")
t.eq((rc, out[0], err.count("result=next")), (111, "temp", 16), "20 dead AAAA, no A: 16 addresses tried")

e = dict(env.env)
e["PIPEMAIL_RESOLVER"] = "127.0.0.1:%d" % pmtest.free_port()
r = subprocess.run([pmtest.bin("smtp-send"), "-R", "-p", str(port), "multi.test", "x@multi.test"], input=b"x\r\n",
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
t.eq((r.returncode, r.stdout.decode().split(" ")[0:3]), (111, ["temp", "x@multi.test", "4.4.3"]), "no DNS answer: temp 4.4.3")

good.close()
other.close()
t.done()
