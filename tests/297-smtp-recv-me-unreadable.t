#!/usr/bin/python3
# smtp-recv with the control file me unreadable at start (a directory, a
# control byte in it): the client gets "421 4.3.0 <host> Service not
# available" (RFC 5321 3.1: try again later), the cause goes to stderr,
# and the exit is 111. Before, it exited 111 with no greeting at all, a
# close the client could only take for a broken connection.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t, env = pmtest.TAP(), pmtest.Env()
me = os.path.join(env.conf, "me")
QENV = {"TCPREMOTEIP": "192.0.2.7"}


def run(args=()):
    return env.run(["smtp-recv", *args], input=b"EHLO x\r\nQUIT\r\n", env=QENV, check=False)


os.unlink(me)
for name, make, cause in (("a directory named me", lambda: os.mkdir(me), "Is a directory"),
                          ("a control byte in me", lambda: open(me, "wb").write(b"mx.\x01.test\n"), "Invalid argument")):
    make()
    r = run()
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    t.ok(re.fullmatch(r"421 4\.3\.0 [A-Za-z0-9.-]+ Service not available[^\r\n]*\r\n", out),
         name + ": one line, 421 4.3.0 host Service not available", out)
    t.ok("\x01" not in out, name + ": nothing of me in the reply", out)
    t.eq(r.returncode, 111, name + ": exit 111")
    t.ok("control file me" in err and cause in err, name + ": the cause logged", err)
    r = run(["-h", "mx.given.test"])
    t.eq(smtp_codes(r.stdout), [220, 250, 221], name + ": -h given, me is not read")
    if os.path.isdir(me):
        os.rmdir(me)
    else:
        os.unlink(me)
t.done()
