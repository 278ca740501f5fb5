#!/usr/bin/python3
# pop-serve -k: the qmail-popup -> checkpassword -> qmail-pop3d interface.
# pop-serve collects USER/PASS (or AUTH PLAIN), hands user\0pass\0stamp\0 to
# the checkpassword program on fd 3, which execs "pop-serve -m Maildir".
import base64, os, poplib, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
home = env.path("home")
md = os.path.join(home, "Maildir")
for d in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(md, d))
with open(os.path.join(md, "new", "1000000000.M1P1Q1.host,S=20"), "wb") as f:
    f.write(b"Subject: cp\n\nhello\n")
log = env.path("checkpw.log")
cp = env.path("checkpw")
with open(cp, "w") as f:
    f.write("""#!/usr/bin/python3
import os, sys
data = b""
while True:
    d = os.read(3, 512)
    if not d:
        break
    data += d
f = data.split(b"\\0")
with open(%r, "ab") as l:
    l.write(b"%%d fields, stamp %%s\\n" %% (len(f), f[2][:1]))
if len(f) < 3 or f[0] != b"u@example.test" or f[1] != b"right pw":
    sys.exit(1)
os.chdir(%r)
os.environ["USER"] = "u@example.test"
os.execvp(sys.argv[1], sys.argv[1:])
""" % (log, home))
os.chmod(cp, 0o755)
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
port = env.server(["pop-serve", "-P", "-k", cp, pmtest.bin("pop-serve"), "-m", "Maildir"], env=FAST)

p = poplib.POP3("127.0.0.1", port, timeout=10)
caps = p.capa()
t.ok("USER" in caps and "PIPELINING" not in caps, "CAPA: USER, no PIPELINING in checkpassword mode")
p.user("u@example.test")
try:
    p.pass_("wrong")
    t.ok(False, "wrong password refused")
except poplib.error_proto as e:
    t.ok(str(e).startswith("b'-ERR [AUTH]"), "checkpassword exit 1: -ERR [AUTH]", e)
p.user("u@example.test")
t.ok(p.pass_("right pw").startswith(b"+OK 1 messages"), "checkpassword exit 0: the subprogram serves the Maildir")
t.eq(p.stat(), (1, 22), "STAT from pop-serve -m")
t.ok(b"hello" in p.retr(1)[1], "RETR through the subprogram")
t.ok(p.quit().startswith(b"+OK"), "QUIT")
with open(log, "rb") as f:
    t.eq(f.read(), b"4 fields, stamp <\n4 fields, stamp <\n", "fd 3 carried user\\0pass\\0<stamp>\\0")

s = socket.create_connection(("127.0.0.1", port), 10)
fh = s.makefile("rb")
fh.readline()
s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0u@example.test\0right pw") + b"\r\n")
t.ok(fh.readline().startswith(b"+OK 1 messages"), "AUTH PLAIN goes through checkpassword too")
s.sendall(b"QUIT\r\n")
t.ok(fh.readline().startswith(b"+OK"), "QUIT")
fh.close()
s.close()

s = socket.create_connection(("127.0.0.1", port), 10)
fh = s.makefile("rb")
fh.readline()
s.sendall(b"AUTH LOGIN " + base64.b64encode(b"u@example.test") + b"\r\n")
t.ok(fh.readline().startswith(b"+ "), "AUTH LOGIN: the password asked for")
s.sendall(base64.b64encode(b"right pw") + b"\r\n")
t.ok(fh.readline().startswith(b"+OK 1 messages"), "AUTH LOGIN goes through checkpassword too")
s.sendall(b"QUIT\r\n")
fh.readline()
fh.close()
s.close()

# after STLS the checkpassword chain gets the TLS pipes as fds 0/1
import ssl
ca = env.make_cert()
port_t = env.server(["tls-serve", "pop-serve", "-k", cp, pmtest.bin("pop-serve"), "-m", "Maildir"], env=FAST)
p = poplib.POP3("127.0.0.1", port_t, timeout=10)
p.stls(context=ssl.create_default_context(cafile=ca))
p.user("u@example.test")
t.ok(p.pass_("right pw").startswith(b"+OK 1 messages"), "checkpassword mode after STLS")
t.ok(b"hello" in p.retr(1)[1], "RETR inside TLS through the subprogram")
p.quit()
time.sleep(0.2)
t.ok("tls=yes" in env.log(port_t) and "right pw" not in env.log(port_t), "the subprogram logs tls=yes; no password logged")

# pop-serve -m on its own is a drop-in qmail-pop3d
r = env.run(["pop-serve", "-m", md], input=b"STAT\r\nUIDL\r\nQUIT\r\n")
t.eq(r.stdout, b"+OK 1 messages (22 octets)\r\n+OK 1 22\r\n+OK unique-id listing follows\r\n"
     b"1 1000000000.M1P1Q1.host\r\n.\r\n+OK bye\r\n", "pop-serve -m speaks POP3 on stdin/stdout")
t.done()
