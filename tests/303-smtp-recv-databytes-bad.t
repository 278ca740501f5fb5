#!/usr/bin/python3
# smtp-recv with DATABYTES (from tcprules) not a positive number: the
# client gets "421 4.3.0 <me> Service not available" (RFC 5321 3.1: try
# again later), the cause goes to stderr, and the exit is 111. Before, it
# exited 111 with no greeting at all, a close the client could only take
# for a broken connection.
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t, env = pmtest.TAP(), pmtest.Env()
with open(os.path.join(env.conf, "me"), "w") as f:
    f.write("mx.me.test\n")


def run(databytes, args=()):
    return env.run(["smtp-recv", *args], input=b"EHLO x\r\nQUIT\r\n",
                   env={"TCPREMOTEIP": "192.0.2.7", "DATABYTES": databytes}, check=False)


for bad in ("0", "-1", "12x", "", "99999999999999999999999"):
    r = run(bad)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    t.ok(re.fullmatch(r"421 4\.3\.0 mx\.me\.test Service not available[^\r\n]*\r\n", out),
         "DATABYTES=%r: one line, 421 4.3.0 me Service not available" % bad, out)
    t.eq(r.returncode, 111, "DATABYTES=%r: exit 111" % bad)
    t.ok("DATABYTES" in err, "DATABYTES=%r: the cause logged" % bad, err)
r = run("bad", ["-h", "mx.given.test"])
t.ok(r.stdout.startswith(b"421 4.3.0 mx.given.test "), "-h given: its name in the 421", r.stdout)
r = run("77")
t.eq(smtp_codes(r.stdout), [220, 250, 221], "DATABYTES=77: the session goes on")
t.ok(b"SIZE 77\r\n" in r.stdout, "DATABYTES=77: the limit offered", r.stdout)
t.done()
