#!/usr/bin/python3
# tls-serve under bad peers and bad arguments: a silent client hits the
# handshake deadline, a client that dies mid-handshake or sends garbage
# is dropped, an idle TLS session hits the idle deadline, a client that
# vanishes mid-session gives prog EOF; usage and setup errors exit 100/111.
import os, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import Lines, log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
prog = pmtest.unit("ucspitls")
imp = env.server(["tls-serve", "-i", "-t", "1:1", prog, "serve"])
st = env.server(["tls-serve", "-t", "1:1", prog, "serve"])


def conn_logs(p, pred, timeout=10):
    end = time.monotonic() + timeout
    while True:
        l = [x for x in log_event(env.log(p), "conn") if pred(x)]
        if l or time.monotonic() > end:
            return l
        time.sleep(0.05)


def closed_within(s, secs):
    """True if the peer closes (EOF or reset) before secs pass."""
    s.settimeout(secs)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def client_hello():
    """The first flight of a real TLS client."""
    return pmtest.client_hello(ctx)


# 1. silent client: the handshake deadline (1 s) closes it
s = socket.create_connection(("127.0.0.1", imp), 10)
t.ok(closed_within(s, 15), "implicit: silent client is disconnected")
s.close()
t.ok(conn_logs(imp, lambda x: x.get("result") == "handshake-timeout"), "implicit: result=handshake-timeout logged")

c = Lines(socket.create_connection(("127.0.0.1", st), 10))
c.reply()
t.eq(c.cmd("STARTTLS"), ["220 go ahead"], "starttls: STARTTLS")
t.ok(closed_within(c.s, 15), "starttls: silent client after STARTTLS is disconnected")
c.s.close()
t.ok(conn_logs(st, lambda x: x.get("result") == "handshake-timeout" and x.get("mode") == "starttls"),
     "starttls: result=handshake-timeout logged, prog ended", env.log(st))

# 2. a client that closes mid-handshake
hello = client_hello()
t.ok(len(hello) > 100, "a real ClientHello was produced")
before = len(log_event(env.log(imp), "conn"))
s = socket.create_connection(("127.0.0.1", imp), 10)
s.sendall(hello[:len(hello) // 2])
s.close()
t.ok(len(conn_logs(imp, lambda x: x.get("result") == "handshake" and x.get("in") == "0")) >= 1,
     "half a ClientHello then close: result=handshake")
time.sleep(0.2)
t.eq([x for x in log_event(env.log(imp), "line")], [], "prog never ran for a failed implicit handshake")

# 3. garbage instead of a ClientHello
s = socket.create_connection(("127.0.0.1", imp), 10)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
t.ok(closed_within(s, 15), "plaintext garbage on the TLS port: closed")
s.close()

# 4. the service still works afterwards
c = Lines(socket.create_connection(("127.0.0.1", imp), 10))
c.starttls(ctx)
t.eq(c.reply(), ["220 test ready"], "a good client still gets served")

# 5. idle deadline (1 s) inside TLS
t.ok(closed_within(c.s, 15), "idle TLS session is closed")
c.s.close()
t.ok(conn_logs(imp, lambda x: x.get("result") == "idle-timeout"), "result=idle-timeout logged")
t.eq(len(log_event(env.log(imp), "eof")), 1, "prog got EOF at the idle timeout")

# 6. the client vanishes mid-session (no close_notify): prog gets EOF
p2 = env.server(["tls-serve", "-i", prog, "serve"])
c = Lines(socket.create_connection(("127.0.0.1", p2), 10))
c.starttls(ctx)
c.reply()
c.cmd("NOOP")
c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
c.s.close()
t.ok(conn_logs(p2, lambda x: x.get("mode") == "implicit" and x.get("in") not in (None, "0")),
     "vanished client: session logged", env.log(p2))
t.ok(any(x.get("tls") == "0" for x in log_event(env.log(p2), "eof")), "vanished client: prog got EOF")

# 7. usage and setup errors
def run(argv, e=None):
    return env.run(argv, env=e, check=False, timeout=20)

r = run(["tls-serve"])
t.eq(r.returncode, 100, "no prog: usage, exit 100")
r = run(["tls-serve", "-t", "x", "true"])
t.eq(r.returncode, 100, "bad -t: exit 100")
r = run(["tls-serve", "-t", "0", "true"])
t.eq(r.returncode, 100, "-t 0: exit 100")
r = run(["tls-serve", "-c", env.path("nope.pem"), "true"])
t.ok(r.returncode == 111 and b"unable to load" in r.stderr, "missing certificate: exit 111", r.stderr)
r = run(["tls-serve", "-k", env.path("nope.pem"), "true"])
t.ok(r.returncode == 111 and b"unable to load" in r.stderr, "missing key: exit 111", r.stderr)
r = run(["tls-serve", "true"], {"UID": "12x", "GID": "1"})
t.eq(r.returncode, 111, "malformed $UID: exit 111")
r = run(["tls-serve", "-u", "12x:3", "true"])
t.eq(r.returncode, 100, "malformed -u uid:gid: exit 100")
r = run(["tls-serve", "-u", "no-such-user-here", "true"])
t.eq(r.returncode, 111, "unknown -u user: exit 111")
t.done()
