#!/usr/bin/python3
# pop-serve over plain TCP (-P allows passwords without TLS here): every
# RFC 1939 command and its errors, CAPA, AUTH PLAIN, limits, Maildir
# semantics (sizes, UIDL, DELE at QUIT only, S flag, T excluded), IN-USE.
import base64, fcntl, os, poplib, socket, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

from pmtest import pop_order as order

t = pmtest.TAP()
env = pmtest.Env()
PW = "s3cret pass"
md = env.add_user("u@example.test", PW)
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}


def deliver(body):
    env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md], input=body,
            env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})


def files(sub):
    return sorted(os.listdir(os.path.join(md, sub)), key=order)


def wait_for(cond, secs=5.0):
    """the S flags are set after QUIT's +OK: poll, bounded"""
    end = time.monotonic() + secs
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)
    return cond()


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Raw:
    """A raw POP3 connection: exact bytes in and out."""
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.s.settimeout(10)
        self.f = self.s.makefile("rb")
        self.greeting = self.line()

    def send(self, b):
        self.s.sendall(b)

    def line(self):
        return self.f.readline()

    def cmd(self, b):
        self.send(b + b"\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            l = self.line()
            if l in (b".\r\n", b""):
                return out
            out.append(l)

    def close(self):
        self.f.close()
        self.s.close()


msgs = [b"Subject: one\n\nbody one\n.leading dot\n..two dots\n.\nend\n",
        b"Subject: two\nX-A: b\n\nl1\nl2\nl3\nl4\n",
        b"Subject: three\n\n" + b"x" * 5000 + b"\n" + b"y\n" * 3000]
for m in msgs:
    deliver(m)
stored = [open(os.path.join(md, "new", f), "rb").read() for f in files("new")]

port = env.server(["pop-serve", "-P"], env=FAST)

# --- AUTHORIZATION state
r = Raw(port)
t.ok(r.greeting.startswith(b"+OK"), "greeting")
r.send(b"CAPA\r\n")
t.ok(r.line().startswith(b"+OK"), "CAPA +OK")
capa = r.multi()
for c in (b"TOP", b"UIDL", b"USER", b"SASL PLAIN LOGIN", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING"):
    t.ok(c + b"\r\n" in capa, "CAPA lists " + c.decode())
t.ok(any(l.startswith(b"IMPLEMENTATION ") for l in capa), "CAPA lists IMPLEMENTATION")
t.ok(b"STLS\r\n" not in capa, "no STLS without SSLCTLFD")
for c in (b"STAT", b"LIST", b"RETR 1", b"DELE 1", b"UIDL", b"TOP 1 1", b"RSET"):
    t.ok(r.cmd(c).startswith(b"-ERR"), c.decode() + " before login refused")
t.ok(r.cmd(b"PASS x").startswith(b"-ERR"), "PASS before USER refused")
t.ok(r.cmd(b"STLS").startswith(b"-ERR"), "STLS refused without UCSPI-TLS")
t.ok(r.cmd(b"APOP u x").startswith(b"-ERR"), "APOP refused")
t.ok(r.cmd(b"NOOP").startswith(b"-ERR"), "NOOP before login refused")
t.ok(r.cmd(b"QUIT").startswith(b"+OK"), "QUIT in AUTHORIZATION")
r.close()

# wrong password and unknown user: the same answer; three failures end the session
r = Raw(port)
t.ok(r.cmd(b"USER u@example.test").startswith(b"+OK"), "USER")
a = r.cmd(b"PASS wrong")
t.ok(a.startswith(b"-ERR [AUTH]"), "wrong password -ERR [AUTH]", a)
r.cmd(b"USER nobody@example.test")
b = r.cmd(b"PASS " + PW.encode())
t.eq(b, a, "unknown user gets the same answer")
r.cmd(b"USER u@example.test")
c = r.cmd(b"PASS wrong again")
t.ok(c.startswith(b"-ERR"), "third failure -ERR")
t.eq(r.line(), b"", "third failure ends the session")
r.close()

# --- TRANSACTION state with poplib
p = poplib.POP3("127.0.0.1", port, timeout=10)
p.user("U@Example.TEST")
t.ok(p.pass_(PW).startswith(b"+OK 3 messages"), "login (address case-insensitive, password with a space)")
sizes = [len(crlf(s)) for s in stored]
t.eq(p.stat(), (3, sum(sizes)), "STAT counts CRLF sizes")
t.eq([l for l in p.list()[1]], [b"%d %d" % (i + 1, s) for i, s in enumerate(sizes)], "LIST sizes with CRLF line ends")
t.eq(p.list(2), b"+OK 2 %d" % sizes[1], "LIST n")
uids = [f.split(",")[0].split(":")[0].encode() for f in files("new")]
t.eq(p.uidl()[1], [b"%d %s" % (i + 1, u) for i, u in enumerate(uids)], "UIDL is the unique part of the name")
t.eq(p.uidl(3), b"+OK 3 " + uids[2], "UIDL n")
resp, lines, octets = p.retr(1)
t.eq(b"\r\n".join(lines) + b"\r\n", crlf(stored[0]), "RETR 1 content (dot-unstuffed by poplib)")
t.ok(resp.startswith(b"+OK"), "RETR +OK")
resp, lines, octets = p.top(2, 0)
t.eq(lines, stored[1].split(b"\n\n")[0].split(b"\n") + [b""], "TOP 2 0: header and blank line")
resp, lines, octets = p.top(2, 2)
t.eq(lines[-3:], [b"", b"l1", b"l2"], "TOP 2 2: two body lines")
resp, lines, octets = p.top(2, 10**30)
t.eq(b"\r\n".join(lines) + b"\r\n", crlf(stored[1]), "TOP with a huge n: the whole message")
for c in ("RETR 0", "RETR 4", "RETR -1", "RETR x", "RETR 1 2", "RETR", "TOP 1", "TOP 1 x", "TOP 0 1",
          "LIST 0", "LIST 99999999999999999999999", "UIDL 4", "DELE 0", "DELE 9"):
    try:
        a = p._shortcmd(c)
        t.ok(False, c + " refused", a)
    except poplib.error_proto as e:
        t.ok(str(e).startswith("b'-ERR"), c + " refused")
t.ok(p.noop().startswith(b"+OK"), "NOOP")
t.ok(p.dele(2).startswith(b"+OK"), "DELE 2")
try:
    p.dele(2)
    t.ok(False, "DELE twice refused")
except poplib.error_proto as e:
    t.ok(b"deleted" in str(e).encode(), "DELE twice refused")
for c in ("RETR 2", "TOP 2 1", "LIST 2", "UIDL 2"):
    try:
        p._shortcmd(c)
        t.ok(False, c + " of a deleted message refused")
    except poplib.error_proto:
        t.ok(True, c + " of a deleted message refused")
t.eq(p.stat(), (2, sizes[0] + sizes[2]), "STAT leaves out deleted messages")
t.eq(len(p.list()[1]), 2, "LIST leaves out deleted messages")
t.ok(p.rset().startswith(b"+OK"), "RSET")
t.eq(p.stat(), (3, sum(sizes)), "RSET undeletes")
p.dele(2)
t.ok(p.quit().startswith(b"+OK"), "QUIT")
t.eq(len(files("new")) + len(files("cur")), 2, "DELE + QUIT removed exactly one message")
t.ok(not any(f.startswith(uids[1].decode()) for f in files("new") + files("cur")), "the deleted one is gone")
wait_for(lambda: len(files("cur")) == 1)
cur = files("cur")
t.ok(len(cur) == 1 and cur[0].startswith(uids[0].decode()) and cur[0].endswith(":2,S"),
     "retrieved message moved to cur/ with S", cur)
t.ok(len(files("new")) == 1 and files("new")[0].startswith(uids[2].decode()), "unretrieved message left in new/")

# UIDL is stable across the move, and dot-stuffing is exact on the wire
r = Raw(port)
r.cmd(b"USER u@example.test")
t.ok(r.cmd(b"PASS " + PW.encode()).startswith(b"+OK 2 "), "second login")
r.send(b"UIDL\r\n")
r.line()
t.eq(r.multi(), [b"1 " + uids[0] + b"\r\n", b"2 " + uids[2] + b"\r\n"], "UIDL unchanged after new/ -> cur/ with flags")
r.send(b"RETR 1\r\n")
t.ok(r.line().startswith(b"+OK"), "RETR raw")
raw = r.multi()
t.eq(raw[5:8], [b"..leading dot\r\n", b"...two dots\r\n", b"..\r\n"], "dot-stuffing on the wire")
t.ok(r.cmd(b"DELE 1").startswith(b"+OK"), "DELE 1")
r.close()   # drop without QUIT
time.sleep(0.3)
t.eq(len(files("new")) + len(files("cur")), 2, "dropped connection deletes nothing")

# errors keep the session; limits end it
r = Raw(port)
r.cmd(b"USER u@example.test")
r.cmd(b"PASS " + PW.encode())
t.ok(r.cmd(b"FROB").startswith(b"-ERR"), "unknown command -ERR")
t.ok(r.cmd(b"STAT").startswith(b"+OK"), "session goes on")
t.ok(r.cmd(b"X" * 10000).startswith(b"-ERR"), "10 kB line -ERR")
t.ok(r.cmd(b"STAT").startswith(b"+OK"), "session goes on after a long line")
r.send(b"STAT\n")
t.ok(r.line().startswith(b"-ERR"), "bare LF line refused")
r.send(b"STAT\rNOOP\r\n")
t.ok(r.line().startswith(b"-ERR"), "bare CR inside a line refused")
t.ok(r.cmd(b"USER x").startswith(b"-ERR"), "USER in TRANSACTION refused")
t.ok(r.cmd(b"stat").startswith(b"+OK"), "lower-case command")
r.send(b"BOGUS\r\n" * 30)   # one write: the server has read it all when it closes
seen = []
while len(seen) < 40:
    l = r.line()
    if l == b"":
        break
    seen.append(l)
t.ok(len(seen) < 30 and b"closing" in seen[-1], "too many bad commands end the session", seen[-3:])
last = r.line()
t.eq(last, b"", "connection closed")
r.close()
t.eq(len(files("new")) + len(files("cur")), 2, "error limit deletes nothing")

# IN-USE: another session (or anything holding the lock) blocks; the kernel frees it
p1 = poplib.POP3("127.0.0.1", port, timeout=10)
p1.user("u@example.test")
p1.pass_(PW)
p2 = poplib.POP3("127.0.0.1", port, timeout=10)
p2.user("u@example.test")
try:
    p2.pass_(PW)
    t.ok(False, "second session refused")
except poplib.error_proto as e:
    t.ok(str(e).startswith("b'-ERR [IN-USE]"), "second session -ERR [IN-USE]", e)
# a delivery during the session shows up at the next login only
deliver(b"Subject: four\n\nlate\n")
t.eq(p1.stat()[0], 2, "delivery during a session is not in the snapshot")
p1.quit()
p3 = poplib.POP3("127.0.0.1", port, timeout=10)
p3.user("u@example.test")
t.ok(p3.pass_(PW).startswith(b"+OK 3 messages"), "next login sees the new message; lock released by QUIT")
p3.file.close()
p3.sock.close()   # no QUIT: the process ends, the kernel drops the flock
time.sleep(0.3)
lockpath = os.path.join(md, "pipemail-pop3.lock")
t.ok(os.path.exists(lockpath), "lock file stays in the Maildir")
fd = os.open(lockpath, os.O_RDWR)
for _ in range(100):   # the dropped session may take a moment to end
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except OSError:
        time.sleep(0.05)
p4 = poplib.POP3("127.0.0.1", port, timeout=10)
p4.user("u@example.test")
try:
    p4.pass_(PW)
    t.ok(False, "a held lock refuses the session")
except poplib.error_proto as e:
    t.ok("IN-USE" in str(e), "a held lock refuses the session")
os.close(fd)   # the holder dies
p5 = poplib.POP3("127.0.0.1", port, timeout=10)
p5.user("u@example.test")
t.ok(p5.pass_(PW).startswith(b"+OK"), "a lock left by a dead holder does not block")
p5.quit()

# T-flagged files are left out; a file without W= is measured; flags kept
cur_before = set(files("cur"))
with open(os.path.join(md, "cur", "1000000000.trash.host:2,ST"), "wb") as f:
    f.write(b"Subject: trashed\n\nx\n")
with open(os.path.join(md, "cur", "1000000001.plain.host:2,F"), "wb") as f:
    f.write(b"Subject: hand\r\n\r\nmixed\nends\r\nno final newline")
p = poplib.POP3("127.0.0.1", port, timeout=10)
p.user("u@example.test")
p.pass_(PW)
u = p.uidl()[1]
t.ok(not any(b"trash" in l for l in u), "T-flagged message not offered")
t.eq(u[0], b"1 1000000001.plain.host", "oldest first; UIDL from a name without S=/W=")
t.eq(p.list(1), b"+OK 1 %d" % len(b"Subject: hand\r\n\r\nmixed\r\nends\r\nno final newline\r\n"),
     "size counted for a file without W=, with the CRLF RETR adds to the last line")
resp, lines, octets = p.retr(1)
t.eq(lines[-1], b"no final newline", "a last line without newline is still sent")
p.quit()
t.ok(wait_for(lambda: "1000000001.plain.host:2,FS" in files("cur")), "S added to existing flags in order")
t.ok("1000000000.trash.host:2,ST" in files("cur"), "T-flagged message untouched")

# AUTH PLAIN
def b64(s):
    return base64.b64encode(s).decode()

r = Raw(port)
r.send(b"AUTH\r\n")
t.ok(r.line().startswith(b"+OK"), "AUTH lists mechanisms")
t.eq(r.multi(), [b"PLAIN\r\n", b"LOGIN\r\n"], "AUTH: PLAIN and LOGIN")
t.ok(r.cmd(b"AUTH CRAM-MD5").startswith(b"-ERR"), "unknown mechanism refused")
for raw_, name in ((b"=", "empty initial response"), (b"AHUAcA=", "bad base64"), (b"%%%%", "junk base64"),
                   (b64(b"\0\0" + PW.encode()).encode(), "empty authcid"),
                   (b64(b"\0u@example.test\0").encode(), "empty password"),
                   (b64(b"\0u@example.test\0" + b"p" * 600).encode(), "over-long password"),
                   (b64(b"\0u@example.test\0a\0b").encode(), "extra NUL"),
                   (b"A" * 3000, "over-long response")):
    a = r.cmd(b"AUTH PLAIN " + raw_)
    t.ok(a.startswith(b"-ERR"), "AUTH PLAIN " + name + " refused", a)
r.close()
r = Raw(port)
a = r.cmd(b"AUTH PLAIN " + b64(b"admin@example.test\0u@example.test\0" + PW.encode()).encode())
t.ok(a.startswith(b"-ERR [AUTH]"), "foreign authzid refused", a)
t.ok(r.cmd(b"AUTH PLAIN").startswith(b"+ "), "AUTH PLAIN without initial response: continuation")
t.ok(r.cmd(b"*").startswith(b"-ERR"), "'*' cancels")
t.ok(r.cmd(b"AUTH PLAIN").startswith(b"+ "), "continuation again")
a = r.cmd(b64(b"\0u@example.test\0" + PW.encode()).encode())
t.ok(a.startswith(b"+OK"), "AUTH PLAIN via continuation", a)
r.cmd(b"QUIT")
r.close()
r = Raw(port)
a = r.cmd(b"AUTH plain " + b64(b"u@example.test\0u@example.test\0" + PW.encode()).encode())
t.ok(a.startswith(b"+OK"), "AUTH PLAIN with initial response and authzid = authcid", a)
r.cmd(b"QUIT")
r.close()

# pipelining: many commands in one write, answers in order
r = Raw(port)
r.send(b"USER u@example.test\r\nPASS " + PW.encode() + b"\r\nSTAT\r\nNOOP\r\nLIST 1\r\nQUIT\r\n")
ans = [r.line() for _ in range(6)]
t.ok(all(a.startswith(b"+OK") for a in ans), "pipelined commands all answered in order", ans)
r.close()

# command limit, idle timeout, -n (no S flag)
port2 = env.server(["pop-serve", "-P", "-c", "4", "-t", "1", "-n"], env=FAST)
r = Raw(port2)
r.cmd(b"USER u@example.test")
r.cmd(b"PASS " + PW.encode())
r.cmd(b"RETR 2")
r.multi()
r.cmd(b"NOOP")
a = r.cmd(b"NOOP")
t.ok(a.startswith(b"-ERR") and r.line() == b"", "command limit ends the session", a)
r.close()
before = files("new")
r = Raw(port2)
r.cmd(b"USER u@example.test")
r.cmd(b"PASS " + PW.encode())
r.send(b"RETR 3\r\n")
r.line()
r.multi()
r.cmd(b"QUIT")
t.eq(files("new"), before, "-n: a retrieved message stays in new/")
r = Raw(port2)
t0 = time.monotonic()
a = r.line()
t.ok(a.startswith(b"-ERR") and r.line() == b"", "idle timeout ends the session", a)
t.ok(time.monotonic() - t0 < 8, "within the timeout")
r.close()

# plaintext refused without -P; allowed with -L on loopback
port3 = env.server(["pop-serve"], env=FAST)
r = Raw(port3)
r.send(b"CAPA\r\n")
r.line()
capa = r.multi()
t.ok(b"USER\r\n" not in capa and not any(l.startswith(b"SASL") for l in capa), "no USER/SASL in CAPA when plaintext is refused")
t.ok(r.cmd(b"USER u@example.test").startswith(b"-ERR"), "USER before TLS refused")
t.ok(r.cmd(b"PASS " + PW.encode()).startswith(b"-ERR"), "PASS before TLS refused")
t.ok(r.cmd(b"AUTH PLAIN " + b64(b"\0u@example.test\0" + PW.encode()).encode()).startswith(b"-ERR"),
     "AUTH PLAIN before TLS refused")
r.close()
port4 = env.server(["pop-serve", "-L"], env=FAST)
p = poplib.POP3("127.0.0.1", port4, timeout=10)
p.user("u@example.test")
t.ok(p.pass_(PW).startswith(b"+OK"), "-L allows plaintext on loopback")
p.quit()

# sizes are exactly what RETR sends (before dot-stuffing): a last line
# without LF, a message ending in CR, with and without W=; one unique part
# in both new/ and cur/ still gives unique UIDLs
md2 = env.add_user("v@example.test", PW)
env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md2], input=b"Subject: w\n\nno newline",
        env={"SENDER": "a@b.test", "RECIPIENT": "v@example.test", "DTLINE": ""})
wname = os.listdir(os.path.join(md2, "new"))[0]
for name, body in (("1000000002.cr.host:2,", b"Subject: cr\n\nends in CR\r"),
                   ("1000000003.lf.host:2,", b"Subject: lf\n\n.dot\n"),
                   ("1000000004.dup.host:2,S", b"Subject: dup\n\nx\n")):
    with open(os.path.join(md2, "cur", name), "wb") as f:
        f.write(body)
with open(os.path.join(md2, "new", "1000000004.dup.host"), "wb") as f:
    f.write(b"Subject: dup\n\nx\n")
os.system("chown -R %d:%d %s 2>/dev/null" % (pmtest.MAILUID, pmtest.MAILGID, md2))
for rnd in range(2):
    r = Raw(port)
    r.cmd(b"USER v@example.test")
    t.ok(r.cmd(b"PASS " + PW.encode()).startswith(b"+OK 5 "), "v: five messages")
    r.send(b"UIDL\r\n")
    r.line()
    ul = [l.split()[1] for l in r.multi()]
    t.ok(len(set(ul)) == 5, "UIDLs unique with one unique part in new/ and cur/", ul)
    if rnd == 0:
        first_ul = ul
    else:
        t.eq(ul, first_ul, "UIDLs stable across sessions")
    r.send(b"LIST\r\n")
    r.line()
    ls = {int(l.split()[0]): int(l.split()[1]) for l in r.multi()}
    for n in range(1, 6):
        r.send(b"RETR %d\r\n" % n)
        head = r.line()
        raw = b""
        while True:
            l = r.line()
            if l in (b".\r\n", b""):
                break
            raw += l[1:] if l.startswith(b".") else l
        t.ok(int(head.split()[1]) == len(raw), "RETR %d: +OK size is the bytes sent" % n, (head, raw))
        t.eq(ls[n], len(raw), "RETR %d: LIST size is the bytes sent" % n)
        t.eq(r.cmd(b"LIST %d" % n), b"+OK %d %d\r\n" % (n, len(raw)), "LIST %d after RETR is the bytes sent" % n)
        t.ok(raw.endswith(b"\r\n") and b"\r\r" not in raw, "RETR %d ends in one CRLF" % n, raw[-12:])
    r.cmd(b"QUIT")
    r.close()
t.ok(wait_for(lambda: "1000000004.dup.host:2,S" in os.listdir(os.path.join(md2, "cur"))
              and len(os.listdir(os.path.join(md2, "new"))) == 1),
     "marking the new/ copy seen does not replace the cur/ one")

# sessions racing at login: exactly one gets the mailbox, the others IN-USE
conns = [Raw(port) for _ in range(8)]
for c in conns:
    c.cmd(b"USER v@example.test")
answers = [None] * len(conns)
go = threading.Barrier(len(conns))

def login(k):
    go.wait()
    answers[k] = conns[k].cmd(b"PASS " + PW.encode())

threads = [threading.Thread(target=login, args=(k,)) for k in range(len(conns))]
for th in threads:
    th.start()
for th in threads:
    th.join(20)
t.eq(sum(1 for a in answers if a and a.startswith(b"+OK")), 1, "racing logins: one session gets the mailbox")
t.ok(all(a.startswith(b"-ERR [IN-USE]") for a in answers if a and not a.startswith(b"+OK")),
     "racing logins: the others are told IN-USE", answers)
for c in conns:
    c.close()
if os.geteuid() == 0:
    # the lock is created inside the Maildir: by the owner, so after the drop
    st = os.stat(os.path.join(md2, "pipemail-pop3.lock"))
    t.eq((st.st_uid, st.st_gid), (pmtest.MAILUID, pmtest.MAILGID), "privileges dropped before the Maildir is opened")

time.sleep(0.2)
logs = env.log(port) + env.log(port2) + env.log(port3) + env.log(port4)
t.ok(PW not in logs and "wrong again" not in logs, "no password in the logs")
t.ok("event=login user=u@example.test ip=127.0.0.1 tls=no result=ok" in logs, "login log line", logs[-2000:])
t.ok("result=bad" in logs, "failed login logged")
t.ok("event=end user=u@example.test" in logs and "deleted=1" in logs, "session end logged with counts")
t.done()
