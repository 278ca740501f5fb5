#!/usr/bin/python3
# tls-serve when prog closes its output while a client that never reads
# keeps tls-serve's buffer to it full: the flush deadline (the handshake
# timeout) must start when prog closes its output, as tls-serve(8)
# promises, not only once tls-serve has read the pipe to its end, which a
# client that never reads prevents: tls-serve then sat out the whole idle
# timeout (an hour by default) after prog was gone.
import os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
# prog writes far more than the socket buffers hold, and gives up after a
# second (as a server's own write timeout would); handshake 1 s, idle 20 s
port = env.server(["tls-serve", "-i", "-t", "1:20", "sh", "-c",
                   "timeout 1 head -c 200000000 /dev/zero; echo prog-gone >&2"])


def conn_logs(timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        logs = [x for x in log_event(env.log(port), "conn") if x.get("tls")]   # not wait_port's probe
        if logs:
            return logs
        time.sleep(0.1)
    return []


raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a small window, never read
raw.settimeout(10)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw, server_hostname="localhost")
logs = conn_logs(40)
s.close()
text = env.log(port)
t.ok("prog-gone" in text, "prog gave up writing and exited", text)
t.ok(logs and int(logs[0].get("out", "0")) < 200000000, "the client did not take the whole answer", text)
t.eq(logs[0].get("result") if logs else None, "flush-timeout",
     "prog's exit started the flush deadline, not the idle one")
t.done()
