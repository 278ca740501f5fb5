#!/usr/bin/python3
# pop-serve's PASS takes the password mailuser(8) set, whatever its bytes
# (a TAB, other control bytes, UTF-8), as AUTH PLAIN does; only a NUL, a
# bare CR or LF are refused, and a NUL never lets the part before it log in.
# PASS follows USER only: a failed AUTH PLAIN does not stand in for one.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER = "u@example.test"
PW = "tab\there \x01\x7f caf\u00e9"
env.add_user(USER, PW)
port = env.server(["pop-serve", "-P"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
PWB = PW.encode()

r = pmtest.PopRaw(port)
a = r.login(USER, PW)
t.ok(a.startswith(b"+OK"), "USER/PASS with a TAB and control bytes in the password", a)
r.cmd(b"QUIT")
r.close()

r = pmtest.PopRaw(port)
a = r.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0" + USER.encode() + b"\0" + PWB))
t.ok(a.startswith(b"+OK"), "the same password by AUTH PLAIN", a)
r.cmd(b"QUIT")
r.close()

r = pmtest.PopRaw(port)
r.cmd(b"USER " + USER.encode())
a = r.cmd(b"PASS " + PWB[:3] + b"\0" + PWB[3:])
t.ok(a.startswith(b"-ERR") and b"AUTH" not in a, "PASS with a NUL refused as malformed, not checked", a)
r.cmd(b"USER " + USER.encode())
a = r.cmd(b"PASS " + PWB + b"\0junk")
t.ok(a.startswith(b"-ERR"), "the right password then a NUL does not log in", a)
r.cmd(b"USER " + USER.encode())
a = r.cmd(b"PASS " + PWB + b"\rjunk")
t.ok(a.startswith(b"-ERR"), "nor the right password then a bare CR", a)
t.ok(r.cmd(b"NOOP").startswith(b"-ERR"), "still not logged in")
r.close()
# a failed AUTH is no USER: the next PASS needs one (RFC 1939 7)
r = pmtest.PopRaw(port)
r.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0" + USER.encode() + b"\0wrong"))
a = r.cmd(b"PASS " + PWB)
t.ok(a.startswith(b"-ERR") and b"USER first" in a, "PASS after a failed AUTH PLAIN needs USER", a)
a = r.cmd(b"AUTH PLAIN " + base64.b64encode(b"other@example.test\0" + USER.encode() + b"\0" + PWB))
t.ok(a.startswith(b"-ERR [AUTH]"), "a foreign authzid refused", a)
a = r.cmd(b"PASS " + PWB)
t.ok(a.startswith(b"-ERR") and b"USER first" in a, "and PASS after it needs USER", a)
r.close()
t.ok("result=authzid-refused" in env.log(port) and
     "user=" + USER + " ip=127.0.0.1 tls=no result=authzid-refused" in env.log(port),
     "the refused authzid's login is logged with its user", env.log(port)[-800:])
t.ok(PW not in env.log(port) and "tab" not in env.log(port), "no password in the log")
t.done()
