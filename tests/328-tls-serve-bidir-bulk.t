#!/usr/bin/python3
# tls-serve relays 20 MB each way at the same time through a cat-like prog,
# with implicit TLS and after STARTTLS, without deadlock and byte for byte:
# the client writes and reads at once, prog echoes, and each direction of
# the relay must go on while the other one waits (a full pipe to prog, a
# full socket to the client). The log line counts 20 MB in and out.
import hashlib, os, select, socket, ssl, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
N = 20 * 1024 * 1024
implicit = env.server(["tls-serve", "-i", "cat"])
starttls = env.server(["tls-serve", "sh", "-c",
                       'printf "220 go\\r\\n"; read line; printf "220 ok\\r\\n"; printf Y >&$SSLCTLFD; '
                       'exec cat <&$SSLREADFD >&$SSLWRITEFD'])


def echo(s):
    """Sends N bytes while reading the echo; (sent, got, same bytes, closed cleanly)."""
    s.setblocking(False)
    data = bytes((i * 7 + i // 253) & 0xff for i in range(65536))
    h_out, h_in = hashlib.sha256(), hashlib.sha256()
    sent = got = 0
    end = time.monotonic() + 120
    while got < N and time.monotonic() < end:
        r, w, _ = select.select([s], [s] if sent < N else [], [], 1)
        if w:
            try:
                chunk = data[:min(16384, N - sent)]
                n = s.send(chunk)
                h_out.update(chunk[:n])
                sent += n
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        while r or s.pending():
            r = None
            try:
                b = s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not b:
                return sent, got, False, False
            got += len(b)
            h_in.update(b)
    s.setblocking(True)
    s.settimeout(10)
    clean = False
    try:
        s = s.unwrap()   # our close_notify; cat ends, tls-serve answers with its own
        clean = True
    except (ssl.SSLError, OSError):
        pass
    s.close()
    return sent, got, h_in.digest() == h_out.digest(), clean


def conn_log(port):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        logs = [x for x in log_event(env.log(port), "conn") if x.get("tls")]   # not wait_port's probe
        if logs:
            return logs[0]
        time.sleep(0.1)
    return {}


raw = socket.create_connection(("127.0.0.1", implicit), 10)
res = echo(ctx.wrap_socket(raw, server_hostname="localhost"))
t.eq(res, (N, N, True, True), "implicit TLS: 20 MB each way at once, echoed intact, closed with close_notify")
log = conn_log(implicit)
t.eq((log.get("in"), log.get("out"), log.get("result")), (str(N), str(N), "ok"), "implicit TLS: logged")

raw = socket.create_connection(("127.0.0.1", starttls), 10)
f = raw.makefile("rb")
t.eq(f.readline(), b"220 go\r\n", "plaintext greeting")
raw.sendall(b"STARTTLS\r\n")
t.eq(f.readline(), b"220 ok\r\n", "STARTTLS accepted")
f.close()
res = echo(ctx.wrap_socket(raw, server_hostname="localhost"))
t.eq(res, (N, N, True, True), "STARTTLS: 20 MB each way at once, echoed intact, closed with close_notify")
log = conn_log(starttls)
t.eq((log.get("in"), log.get("out"), log.get("result")), (str(N), str(N), "ok"), "STARTTLS: logged")
t.done()
