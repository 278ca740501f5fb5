#!/usr/bin/python3
# tls-serve's close when the client is still sending: prog writes a large
# answer without reading its input and exits, while the client keeps
# writing and reads more slowly than tls-serve hands the answer to the
# kernel. Whatever of the answer is still in the socket's send queue at
# the close must reach the client: tls-serve lingers (reads and drops the
# client's bytes) until the client closes or its deadline, instead of
# closing with unread input, which resets the connection and throws the
# unsent tail of the answer away.
import os, select, socket, ssl, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
SIZE = 4000000
blob = env.path("answer")
with open(blob, "wb") as f:
    f.write(bytes((i * 7 + i // 251) & 0xff for i in range(SIZE)))
want = open(blob, "rb").read()
port = env.server(["tls-serve", "-i", "sh", "-c", 'exec head -c %d "$0"' % SIZE, blob])


def session():
    """Keeps sending while reading, until the end of the answer. Returns
    (bytes received, bytes sent, how it ended)."""
    raw = socket.socket()
    # a small window: most of the answer waits in tls-serve's send queue
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
    s.setblocking(False)
    chunk = b"x" * 65536
    got, sent, sending, how = bytearray(), 0, True, "bound"
    end = time.monotonic() + 60
    while time.monotonic() < end and len(got) <= SIZE:
        r, w, _ = select.select([s], [s] if sending else [], [], 1)
        if w:
            try:
                sent += s.send(chunk)
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
            except OSError:
                sending = False   # tls-serve is closing: only read now
        if r or s.pending():
            try:
                b = s.recv(16384)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except OSError as e:
                how = "error: %s" % e
                break
            if not b:
                how = "close_notify"
                break
            got.extend(b)
    s.close()
    return bytes(got), sent, how


got, sent, how = session()
t.ok(sent > 65536, "the client sent more than prog read (%d bytes)" % sent)
t.eq(len(got), SIZE, "the whole answer arrived (%s)" % how)
t.ok(got == want, "byte for byte")
t.eq(how, "close_notify", "the session ended with close_notify, not a reset")
logs = []
end = time.monotonic() + 10
while not logs and time.monotonic() < end:
    logs = [x for x in log_event(env.log(port), "conn") if x.get("tls")]   # not wait_port's probe
    time.sleep(0.05)
t.ok(logs and logs[0].get("out") == str(SIZE) and logs[0].get("result") == "ok", "logged out=%d result=ok" % SIZE,
     env.log(port))
t.done()
