#!/usr/bin/python3
# pop-serve offers AUTH LOGIN beside PLAIN (RFC 5034 dialogue; Outlook and
# other clients that know only LOGIN): the user name as an initial
# response or after "+ VXNlcm5hbWU6", the password after "+ UGFzc3dvcmQ6",
# "*" cancels at either step, malformed base64 and NUL/CR/LF inside a
# field are refused, a wrong password counts as a failed login, and
# LOGIN, like PLAIN, needs TLS unless plaintext is allowed. An AUTH
# forgets an earlier USER: PASS must follow USER directly.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER = "u@example.test"
PW = "s3cret pass"
env.add_user(USER, PW)
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
port = env.server(["pop-serve", "-P", "-f", "3"], env=FAST)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s)


r = pmtest.PopRaw(port)
r.send(b"CAPA\r\n")
r.line()
t.ok(b"SASL PLAIN LOGIN\r\n" in r.multi(), "CAPA lists SASL PLAIN LOGIN")
r.send(b"AUTH\r\n")
r.line()
t.ok(b"LOGIN\r\n" in r.multi(), "AUTH lists LOGIN")
a = r.cmd(b"AUTH LOGIN")
t.eq(a, b"+ VXNlcm5hbWU6\r\n", "AUTH LOGIN asks for the user name")
a = r.cmd(b64(USER))
t.eq(a, b"+ UGFzc3dvcmQ6\r\n", "then for the password")
a = r.cmd(b64(PW))
t.ok(a.startswith(b"+OK"), "AUTH LOGIN logs in", a)
t.ok(r.cmd(b"STAT").startswith(b"+OK"), "in TRANSACTION state")
r.cmd(b"QUIT")
r.close()

r = pmtest.PopRaw(port)
a = r.cmd(b"auth login " + b64(USER))
t.eq(a, b"+ UGFzc3dvcmQ6\r\n", "the user name as initial response: straight to the password")
a = r.cmd(b64(PW))
t.ok(a.startswith(b"+OK"), "and logs in", a)
r.cmd(b"QUIT")
r.close()

r = pmtest.PopRaw(port)
r.cmd(b"AUTH LOGIN")
t.ok(r.cmd(b"*").startswith(b"-ERR"), "'*' for the user name cancels")
t.ok(r.cmd(b"NOOP").startswith(b"-ERR not logged in"), "not logged in after a cancel")
r.cmd(b"AUTH LOGIN " + b64(USER))
t.ok(r.cmd(b"*").startswith(b"-ERR"), "'*' for the password cancels")
# PASS goes only straight after USER (RFC 1939): an AUTH between them,
# cancelled, leaves no user name for a later PASS
for mech in (b"PLAIN", b"LOGIN"):
    t.ok(r.cmd(b"USER " + USER.encode()).startswith(b"+OK"), "USER")
    r.cmd(b"AUTH " + mech)
    r.cmd(b"*")
    a = r.cmd(b"PASS " + PW.encode())
    t.ok(a.startswith(b"-ERR USER first"), "PASS after USER, AUTH %s, cancel: USER first" % mech.decode(), a)
for raw_, name in ((b"=", "empty user name"), (b"%%%%", "junk base64"), (b"AAA=", "NUL in the user name"),
                   (b64("u\r\nx"), "CRLF in the user name"), (b64("u" * 600), "over-long user name")):
    a = r.cmd(b"AUTH LOGIN " + raw_)
    t.ok(a.startswith(b"-ERR [AUTH] malformed"), "user name: " + name + " refused", a)
r.cmd(b"AUTH LOGIN " + b64(USER))
a = r.cmd(b64(PW[:3] + "\0" + PW[3:]))
t.ok(a.startswith(b"-ERR [AUTH] malformed"), "a NUL in the password refused, not checked", a)
t.ok(r.cmd(b"NOOP").startswith(b"-ERR not logged in"), "still not logged in")
r.cmd(b"AUTH LOGIN")
r.cmd(b64(USER))
a = r.cmd(b64("wrong"))
t.ok(a.startswith(b"-ERR [AUTH] authentication failed"), "a wrong password fails", a)
a = r.cmd(b"PASS " + PW.encode())
t.ok(a.startswith(b"-ERR") and b"USER first" in a, "a failed AUTH LOGIN is no USER for PASS", a)
r.close()

r = pmtest.PopRaw(port)
for i in range(3):
    r.cmd(b"AUTH LOGIN " + b64(USER))
    a = r.cmd(b64("wrong%d" % i))
t.ok(b"too many failures" in a, "failed LOGINs count toward -f", a)
t.eq(r.line(), b"", "and the session is closed")
r.close()

# pipelined: the client sends the whole dialogue at once (RFC 2449)
r = pmtest.PopRaw(port)
r.send(b"AUTH LOGIN\r\n" + b64(USER) + b"\r\n" + b64(PW) + b"\r\nSTAT\r\nQUIT\r\n")
got = [r.line() for _ in range(5)]
t.ok(got[0].startswith(b"+ ") and got[1].startswith(b"+ ") and got[2].startswith(b"+OK")
     and got[3].startswith(b"+OK") and got[4].startswith(b"+OK"), "a pipelined AUTH LOGIN", got)
r.close()

port2 = env.server(["pop-serve"], env=FAST)
r = pmtest.PopRaw(port2)
a = r.cmd(b"AUTH LOGIN")
t.ok(a.startswith(b"-ERR [AUTH]") and b"TLS" in a, "AUTH LOGIN before TLS refused", a)
r.close()

log = env.log(port)
t.ok(PW not in log and "wrong0" not in log, "no password in the log")
t.ok("user=" + USER + " ip=127.0.0.1 tls=no result=bad" in log, "a failed LOGIN is logged with its user", log[-600:])
t.done()
