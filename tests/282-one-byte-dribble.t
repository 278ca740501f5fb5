#!/usr/bin/python3
# THREATS I10: a client that sends one byte at a time, each one well
# within the idle timeout, never holds a server past its deadline for
# the whole unit: smtp-recv's command line (-t), smtp-recv's message
# (-D, here DATA; test 46 does BDAT), pop-serve's command line before
# login (-t), tls-serve's handshake (-t handshake:idle). Tests 32, 40,
# 232 and 79 cover a client that is silent or reads slowly; a dribbling
# one renews every per-read timeout. The dribble is bounded by a count:
# the server must have closed before it ran out (far past the deadline).
import os, select, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_files

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
STEP = 0.25   # seconds between two bytes: far under every per-read timeout
N = 80        # bytes of dribble at most: 20 s, ten times the 2 s deadlines


def dribble(port, prefix, want, slow, tls=False):
    """Connect, send prefix, read until want; then send slow one byte
    every STEP seconds until the peer closes. Returns (bytes sent slowly
    before the close, everything read after the prefix's reply)."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    got = b""
    s.settimeout(10)
    if prefix is not None:
        s.sendall(prefix)
    while want not in got:
        b = s.recv(4096)
        if not b:
            break
        got += b
    after, sent = b"", 0
    try:
        for i in range(min(N, len(slow))):
            s.send(slow[i:i + 1])
            sent += 1
            r, _, _ = select.select([s], [], [], STEP)
            if r:
                b = s.recv(4096)
                if not b:
                    break
                after += b
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.close()
    return sent, after


# smtp-recv: one command line, never ended
smtp = env.server(["smtp-recv", "-t", "2", "-d", "30", "-D", "2"], env=FAST)
sent, after = dribble(smtp, b"", b"220 ", b"NOOP " + b"x" * N)
t.ok(sent < N and b"421 4.4.2" in after, "smtp-recv: a command line dribbled past -t ends with 421 (%d bytes)" % sent,
     after)

# smtp-recv: a message dribbled, each byte within -d, past -D
before = queue_files(env)
sent, after = dribble(smtp, b"EHLO x\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n", b"354 ",
                      b"Subject: slow\r\n\r\n" + b"x\r\n" * N)
t.ok(sent < N and b"421 4.4.2" in after, "smtp-recv: DATA dribbled past -D ends with 421 (%d bytes)" % sent, after)
t.eq(queue_files(env), before, "smtp-recv: nothing queued")

# pop-serve: a command line before login
pop = env.server(["pop-serve", "-P", "-t", "2"], env=FAST)
sent, after = dribble(pop, None, b"+OK", b"USER " + b"u" * N)
t.ok(sent < N and after.startswith(b"-ERR"), "pop-serve: a command line dribbled past -t ends with -ERR (%d bytes)" % sent,
     after)

# tls-serve: the handshake, a real ClientHello one byte at a time
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
hello = pmtest.client_hello(ctx)
t.ok(len(hello) > N, "a real ClientHello, longer than the dribble", len(hello))
tls = env.server(["tls-serve", "-i", "-t", "2:30", pmtest.unit("ucspitls"), "serve"])
sent, after = dribble(tls, None, b"", hello)
t.ok(sent < N, "tls-serve: a ClientHello dribbled past the handshake deadline is dropped (%d bytes)" % sent)
t.ok(pmtest.wait_for(lambda: "result=handshake-timeout" in env.log(tls), 10), "tls-serve: result=handshake-timeout logged",
     env.log(tls)[-300:])
t.done()
