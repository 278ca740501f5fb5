#!/usr/bin/python3
# tls-serve without -i: STARTTLS through UCSPI-TLS. prog talks plaintext on
# the network fds, writes "Y" to SSLCTLFD, then continues on SSLREADFD/
# SSLWRITEFD; the TLS facts reach it over the control fd (lib/ucspitls).
# Plaintext a client pipelines after STARTTLS never arrives inside TLS
# (THREATS I6), whether prog buffered it or it stayed in the socket.
import os, socket, ssl, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import Lines, log_event

t = pmtest.TAP()
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)
prog = pmtest.unit("ucspitls")
port = env.server(["tls-serve", prog, "serve"])
port1 = env.server(["tls-serve", prog, "serve1"])     # prog reads one byte at a time
portr = env.server(["tls-serve", "-r", prog, "serve"])


def plain(p):
    c = Lines(socket.create_connection(("127.0.0.1", p), 10))
    c.reply()
    return c


def logs(p, event, want=1, timeout=10):
    end = time.monotonic() + timeout
    while True:
        l = log_event(env.log(p), event)
        if len(l) >= want or time.monotonic() > end:
            return l
        time.sleep(0.05)


# 1. a clean STARTTLS session
c = plain(port)
ehlo = c.cmd("EHLO x")
t.ok("250-STARTTLS" in ehlo, "STARTTLS offered: SSLCTLFD/SSLREADFD/SSLWRITEFD usable", ehlo)
t.eq(c.cmd("INFO"), ["250 unknown ucspitls=empty optional uid=%d" % os.getuid()],
     "before TLS: no facts, UCSPITLS empty (optional)")
t.eq(c.cmd("STARTTLS"), ["220 go ahead"], "STARTTLS accepted")
t.eq(c.starttls(ctx), b"", "nothing buffered in cleartext")
t.eq(c.s.version(), "TLSv1.3", "TLS 1.3 after STARTTLS")
ehlo = c.cmd("EHLO x")
t.ok(ehlo and not any("STARTTLS" in l for l in ehlo), "inside TLS: fds switched, no second STARTTLS", ehlo)
t.eq(c.cmd("INFO"), ["250 %s:%s ucspitls=empty optional uid=%d" % (c.s.version(), c.s.cipher()[0], os.getuid())],
     "facts arrived on the control fd (SSL_PROTOCOL, SSL_CIPHER) before the first cleartext")
big = 1 << 20
c.send("BIG %d\r\n" % big)
l = c.line()
t.ok(l is not None and len(l) == big, "1 MB relayed after STARTTLS")
t.eq(c.cmd("QUIT"), ["221 bye"], "QUIT inside TLS")
try:
    t.eq(c.rest(), b"", "close_notify at the end")
except ssl.SSLError as e:
    t.ok(False, "close_notify at the end", e)
c.s.close()
l = [x for x in logs(port, "conn", 2) if x.get("result") == "ok"]
t.ok(l and l[0].get("mode") == "starttls" and l[0].get("tls") == "TLSv1.3" and l[0].get("status") == "0"
     and int(l[0].get("out", 0)) > big, "log line for the STARTTLS session", l)

# 2. injection: STARTTLS and a command in one write; prog read both and drops the rest
before = len(logs(port, "line", 0))
c = plain(port)
c.send("STARTTLS\r\nINJECTED\r\n")
t.eq(c.reply(), ["220 go ahead"], "pipelined STARTTLS: 220")
t.eq(c.line() if c.buf else None, None, "the injected line got no plaintext answer")
c.starttls(ctx)
info = c.cmd("INFO")
t.ok(info and info[0].startswith("250 TLSv1.3:"), "first answer inside TLS is to our INFO, not to INJECTED", info)
c.cmd("QUIT")
c.s.close()
inj = [x for x in logs(port, "line", before + 3) if x.get("line") == "INJECTED"]
t.eq(inj, [], "prog never processed INJECTED")
disc = [x for x in logs(port, "discard") if x.get("line") not in ("0", None)]
t.ok(len(disc) >= 1, "prog discarded the pipelined bytes", logs(port, "discard"))

# 3. injection when the pipelined bytes are still in the socket: they reach
#    libtls as a bad ClientHello, never prog
c = plain(port1)
c.send("STARTTLS\r\nINJECTED\r\n")
t.eq(c.reply(), ["220 go ahead"], "bytewise prog: 220")
try:
    c.starttls(ctx)
    c.cmd("INFO")
    t.ok(False, "handshake over leftover plaintext fails")
except (ssl.SSLError, OSError):
    t.ok(True, "handshake over leftover plaintext fails")
c.s.close()
lines = [x for x in logs(port1, "eof", 2) if x.get("tls") == "1"]
t.ok(lines, "prog saw EOF on SSLREADFD", env.log(port1))
t.eq([x for x in log_event(env.log(port1), "line") if x.get("line") == "INJECTED"], [],
     "INJECTED never reached prog")
hs = [x for x in logs(port1, "conn", 2) if x.get("mode") == "starttls" and x.get("result") == "handshake"]
t.ok(hs, "tls-serve logs the failed handshake", env.log(port1))

# 4. -r sets UCSPITLS=! (TLS required)
c = plain(portr)
t.eq(c.cmd("INFO"), ["250 unknown ucspitls=! required uid=%d" % os.getuid()], "-r: UCSPITLS=!")
c.cmd("QUIT")
c.s.close()

# 5. a session that never starts TLS ends with prog's status
c = plain(port)
c.send("EXIT 5\r\n")
t.eq(c.line(), None, "plain session: connection closes when prog exits")
c.s.close()
t.ok(any(x.get("result") == "plain" and x.get("status") == "5" for x in logs(port, "conn", 4)),
     "result=plain status=5 logged", env.log(port))

# 6. openssl s_client -starttls smtp
def s_client(args):
    return subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:%d" % port,
                           "-CAfile", ca, "-verify_hostname", "localhost", "-verify_return_error",
                           "-quiet", "-crlf"] + args, input=b"INFO\nQUIT\n",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
r = s_client([])
out = r.stdout.decode(errors="replace")
t.ok("250 TLSv1.3:" in out and "221 bye" in out, "openssl s_client -starttls smtp", out + r.stderr.decode())
r = s_client(["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"])
t.ok(r.returncode != 0 and b"250 TLS" not in r.stdout, "openssl s_client -starttls smtp -tls1_1 fails",
     r.stderr.decode())
r = s_client(["-tls1_2"])
t.ok("250 TLSv1.2:" in r.stdout.decode(errors="replace"), "openssl s_client -tls1_2 works")
t.done()
