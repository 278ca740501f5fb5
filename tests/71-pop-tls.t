#!/usr/bin/python3
# pop-serve under tls-serve: STLS (RFC 2595) with the state reset and
# pipelined plaintext discarded, passwords only inside TLS, implicit TLS.
import os, poplib, socket, ssl, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "tls-pw"
md = env.add_user("u@example.test", PW)
ca = env.make_cert()
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md],
        input=b"Subject: hi\n\nhello\n", env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test",
                                             "DTLINE": "Delivered-To: u@example.test\n"})
ctx = ssl.create_default_context(cafile=ca)


class Conn:
    def __init__(self, port, implicit=False):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        if implicit:
            self.s = ctx.wrap_socket(self.s, server_hostname="localhost")
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                l, self.buf = self.buf, b""
                return l
            self.buf += d
        l, _, self.buf = self.buf.partition(b"\n")
        return l + b"\n"

    def cmd(self, b):
        self.s.sendall(b + b"\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            l = self.line()
            if l in (b".\r\n", b""):
                return out
            out.append(l)

    def starttls(self):
        self.s = ctx.wrap_socket(self.s, server_hostname="localhost")

    def close(self):
        self.s.close()


port = env.server(["tls-serve", "pop-serve"], env=FAST)
c = Conn(port)
t.ok(c.line().startswith(b"+OK"), "greeting in plaintext")
c.s.sendall(b"CAPA\r\n")
c.line()
capa = c.multi()
t.ok(b"STLS\r\n" in capa, "STLS offered under tls-serve")
t.ok(b"USER\r\n" not in capa, "USER not offered before TLS")
t.ok(c.cmd(b"USER u@example.test").startswith(b"-ERR"), "USER before TLS refused")
t.ok(c.cmd(b"PASS " + PW.encode()).startswith(b"-ERR"), "PASS before TLS refused")
t.ok(c.cmd(b"STLS").startswith(b"+OK"), "STLS +OK")
c.starttls()
t.ok(c.s.version() in ("TLSv1.2", "TLSv1.3"), "TLS negotiated: " + str(c.s.version()))
c.s.sendall(b"CAPA\r\n")
t.ok(c.line().startswith(b"+OK"), "CAPA inside TLS")
capa = c.multi()
t.ok(b"USER\r\n" in capa and b"SASL PLAIN LOGIN\r\n" in capa, "USER and SASL PLAIN LOGIN offered inside TLS")
t.ok(b"STLS\r\n" not in capa, "STLS no longer offered")
t.ok(c.cmd(b"STLS").startswith(b"-ERR"), "second STLS refused")
t.ok(c.cmd(b"PASS " + PW.encode()).startswith(b"-ERR"), "USER from before STLS forgotten")
t.ok(c.cmd(b"USER u@example.test").startswith(b"+OK"), "USER inside TLS")
t.ok(c.cmd(b"PASS " + PW.encode()).startswith(b"+OK 1 messages"), "PASS inside TLS")
t.ok(c.cmd(b"STLS").startswith(b"-ERR"), "STLS in TRANSACTION refused")
c.s.sendall(b"RETR 1\r\n")
t.ok(c.line().startswith(b"+OK"), "RETR inside TLS")
t.ok(b"hello\r\n" in c.multi(), "message inside TLS")
t.ok(c.cmd(b"QUIT").startswith(b"+OK"), "QUIT")
c.close()

# I6: STLS and a pipelined command in one write: the CAPA is answered
# neither in plaintext nor inside TLS
c = Conn(port)
c.line()
c.s.sendall(b"STLS\r\nCAPA\r\n")
t.ok(c.line().startswith(b"+OK"), "STLS +OK with CAPA pipelined behind it")
t.eq(c.buf, b"", "nothing else in plaintext")
c.s.setblocking(False)
time.sleep(0.3)
try:
    extra = c.s.recv(4096)
except BlockingIOError:
    extra = None
c.s.setblocking(True)
c.s.settimeout(10)
t.eq(extra, None, "no plaintext answer to the injected CAPA")
c.starttls()
c.s.settimeout(0.5)
try:
    inside = c.s.recv(4096)
except (socket.timeout, ssl.SSLError):
    inside = None
c.s.settimeout(10)
t.eq(inside, None, "no answer to the injected CAPA inside TLS either")
t.ok(c.cmd(b"NOOP").startswith(b"-ERR"), "session reset: still AUTHORIZATION")
c.close()

# AUTH PLAIN inside TLS
import base64
c = Conn(port)
c.line()
c.cmd(b"STLS")
c.starttls()
a = c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0u@example.test\0" + PW.encode()))
t.ok(a.startswith(b"+OK"), "AUTH PLAIN inside TLS", a)
c.cmd(b"QUIT")
c.close()

# UCSPITLS=! (tls-serve -r): no password before TLS even with -P
port_r = env.server(["tls-serve", "-r", "pop-serve", "-P"], env=FAST)
c = Conn(port_r)
c.line()
t.ok(c.cmd(b"USER u@example.test").startswith(b"-ERR"), "TLS required: USER refused despite -P")
t.ok(c.cmd(b"STLS").startswith(b"+OK"), "STLS")
c.starttls()
c.cmd(b"USER u@example.test")
t.ok(c.cmd(b"PASS " + PW.encode()).startswith(b"+OK"), "login after STLS")
c.cmd(b"QUIT")
c.close()

# implicit TLS (tls-serve -i), as on port 995
port_i = env.server(["tls-serve", "-i", "pop-serve"], env=FAST)
p = poplib.POP3_SSL("127.0.0.1", port_i, context=ssl.create_default_context(cafile=ca), timeout=10)
caps = p.capa()
t.ok("STLS" not in caps and "USER" in caps, "implicit TLS: USER offered, STLS not")
p.user("u@example.test")
t.ok(p.pass_(PW).startswith(b"+OK"), "implicit TLS login")
t.ok(b"hello" in p.retr(1)[1], "implicit TLS RETR")
p.quit()

time.sleep(0.2)
logs = env.log(port) + env.log(port_i)
import re
t.ok(re.search(r"event=login user=u@example.test ip=127.0.0.1 tls=yes proto=TLSv1\.[23] cipher=\S+ result=ok", logs),
     "login logged with tls=yes, protocol and cipher", logs[-1500:])
t.ok(PW not in logs, "no password in the logs")
t.done()
