#!/usr/bin/python3
# tls-serve -i: implicit TLS (ports 465/993/995). The handshake comes first,
# prog then talks cleartext on fds 0/1 with SSL_PROTOCOL/SSL_CIPHER set;
# data flows both ways in bulk; close_notify ends the session; the exit
# status and one log line per connection come out; TLS < 1.2 is refused.
import os, socket, ssl, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import Lines, log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
prog = pmtest.unit("ucspitls")
port = env.server(["tls-serve", "-i", prog, "serve"])


def connect(**kw):
    s = socket.create_connection(("127.0.0.1", port), 10)
    c = Lines(s)
    c.starttls(pmtest.tls_context(ca, **kw))
    return c


def conn_logs(n, timeout=10):
    """The tls-serve conn lines, once n of them are there."""
    end = time.monotonic() + timeout
    while True:
        logs = log_event(env.log(port), "conn")
        if len(logs) >= n or time.monotonic() > end:
            return logs
        time.sleep(0.05)


# 1. a whole session over TLS 1.3
c = connect()
t.eq(c.reply(), ["220 test ready"], "greeting arrives inside TLS")
t.eq(c.s.version(), "TLSv1.3", "TLS 1.3 negotiated by default")
info = c.cmd("INFO")
t.eq(info, ["250 %s:%s ucspitls=unset optional uid=%d" % (c.s.version(), c.s.cipher()[0], os.getuid())],
     "prog sees SSL_PROTOCOL/SSL_CIPHER in its environment, UCSPITLS unset")
t.ok(not any("STARTTLS" in l for l in c.cmd("EHLO x")), "no STARTTLS offered inside implicit TLS")

# bulk, server to client: 2 MB in one reply (tls-serve must handle WANT_POLLOUT and pipe backpressure)
big = 2 * 1024 * 1024
c.send("BIG %d\r\n" % big)
line = c.line()
t.ok(line is not None and len(line) == big and set(line) == {"x"}, "2 MB from prog arrive intact")

# bulk, client to server, pipelined 50 lines (45 KB) per write; one thread
# (python's SSL object must not be used from two threads at once)
lines = ["L%05d %s" % (i, "y" * 900) for i in range(2000)]
got = []
for i in range(0, len(lines), 50):
    c.send("".join(l + "\r\n" for l in lines[i:i + 50]))
    got += [c.line() for _ in lines[i:i + 50]]
t.ok(got == ["250 got " + l for l in lines], "2000 pipelined lines (1.8 MB) relayed in order, replies in order")

t.eq(c.cmd("QUIT"), ["221 bye"], "QUIT")
try:
    rest = c.rest()
    t.eq(rest, b"", "close_notify then EOF (no ragged end)")
except ssl.SSLError as e:
    t.ok(False, "close_notify then EOF (no ragged end)", e)
c.s.close()

logs = [l for l in conn_logs(2) if l.get("result") != "handshake"]   # the first is tcpserver's probe
l = logs[0] if logs else {}
t.eq((l.get("ip"), l.get("mode"), l.get("tls"), l.get("result"), l.get("status")),
     ("127.0.0.1", "implicit", "TLSv1.3", "ok", "0"), "log line: ip, mode, tls, result, status")
t.ok(l.get("cipher") and int(l.get("in", 0)) > 1800000 and int(l.get("out", 0)) > big,
     "log line: cipher and byte counts each way", l)

# 2. TLS 1.2 still works; prog's exit status comes back
c = connect(maxver=ssl.TLSVersion.TLSv1_2)
c.reply()
t.eq(c.s.version(), "TLSv1.2", "TLS 1.2 accepted")
info = c.cmd("INFO")
t.ok(info and info[0].startswith("250 TLSv1.2:"), "prog sees TLSv1.2", info)
c.send("EXIT 7\r\n")
try:
    c.rest()
    t.ok(True, "session ends cleanly when prog exits")
except ssl.SSLError as e:
    t.ok(False, "session ends cleanly when prog exits", e)
c.s.close()
logs = conn_logs(3)
t.eq(logs[-1].get("status") if len(logs) >= 3 else None, "7", "prog's exit status logged")

# 3. TLS 1.1 and 1.0 are refused (the client allows them with SECLEVEL=0)
for ver, name in ((ssl.TLSVersion.TLSv1_1, "TLS 1.1"), (ssl.TLSVersion.TLSv1, "TLS 1.0")):
    try:
        c = connect(minver=ver, maxver=ver, seclevel0=True)
        t.ok(False, name + " refused (python ssl)")
        c.s.close()
    except (ssl.SSLError, OSError):
        t.ok(True, name + " refused (python ssl)")

# 3b. half-close: the client sends close_notify right after a command and
#     keeps reading; prog reads EOF after the command and its answer still
#     arrives, followed by tls-serve's own close_notify
def half_close(cmd):
    s = socket.create_connection(("127.0.0.1", port), 10)
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = pmtest.tls_context(ca).wrap_bio(i, o, server_hostname="localhost")
    def pump():
        d = o.read()
        if d:
            s.sendall(d)
    for _ in range(100):
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            i.write(s.recv(65536))
    pump()
    obj.write(cmd)
    pump()
    try:
        obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    pump()
    data, how = b"", "eof"
    while len(data) < 1 << 20:
        b = s.recv(65536)
        if not b:
            break
        i.write(b)
        try:
            while True:
                x = obj.read(65536)
                if not x:
                    break
                data += x
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            how = "close_notify"
            break
    s.close()
    return data, how

data, how = half_close(b"BIG 10\r\n")
t.eq((data, how), (b"220 test ready\r\n" + b"x" * 10 + b"\r\n", "close_notify"),
     "half-close: answer after the client's close_notify, then ours")

# 3c. 20 sessions at once, each with its own bulk reply
import threading
results = []
def one(k):
    try:
        c = connect()
        c.reply()
        c.send("BIG %d\r\n" % (100000 + k))
        l = c.line()
        q = c.cmd("QUIT")
        results.append(l is not None and len(l) == 100000 + k and q == ["221 bye"])
        c.s.close()
    except Exception as e:
        results.append(repr(e))
ths = [threading.Thread(target=one, args=(k,)) for k in range(20)]
for th in ths:
    th.start()
for th in ths:
    th.join(60)
t.eq(results, [True] * 20, "20 concurrent sessions, each gets its own reply")

# 4. openssl s_client, implicit TLS
def s_client(args, stdin):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca,
                           "-verify_hostname", "localhost", "-verify_return_error", "-quiet"] + args,
                          input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)

r = s_client(["-crlf"], b"INFO\nQUIT\n")
out = r.stdout.decode(errors="replace")
t.ok("220 test ready" in out and "250 TLSv1." in out and "221 bye" in out, "openssl s_client session", out + r.stderr.decode())
r = s_client(["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], b"QUIT\n")
t.ok(r.returncode != 0 and b"220" not in r.stdout, "openssl s_client -tls1_1 fails", r.stderr.decode())

refused = [l for l in conn_logs(28) if l.get("result") == "handshake"]
t.ok(len(refused) >= 3, "refused handshakes are logged result=handshake", env.log(port))
# started with SIGCHLD ignored (an inherited SIG_IGN): prog's status still comes back
SHIM = "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
port2 = env.server(["/usr/bin/python3", "-c", SHIM, pmtest.bin("tls-serve"), "-i", prog, "serve"])
s2 = socket.create_connection(("127.0.0.1", port2), 10)
c = Lines(s2)
c.starttls(pmtest.tls_context(ca))
c.reply()
c.send("EXIT 7\r\n")
try:
    c.rest()
except ssl.SSLError:
    pass
c.s.close()
end = time.monotonic() + 10
while True:
    logs = [l for l in log_event(env.log(port2), "conn") if l.get("result") != "handshake"]
    if logs or time.monotonic() > end:
        break
    time.sleep(0.05)
t.eq(logs[-1].get("status") if logs else None, "7", "SIGCHLD ignored by the caller: prog's exit status still logged")
t.done()
