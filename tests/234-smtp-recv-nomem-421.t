#!/usr/bin/python3
# smtp-recv: out of memory in a session (here the envelope of 100,000 long
# recipients under a 16 MB address-space limit) ends it with 421 4.3.0
# <host>, not a silent close the client cannot tell from a broken
# connection. Under ASan the address-space limit cannot be set (its shadow
# memory alone is terabytes of it).
import os, resource, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_replies

t = pmtest.TAP()
if pmtest.SANITIZED:
    t.skip_all("RLIMIT_AS and sanitizers do not mix")
env = pmtest.Env()
LIMIT = 16 << 20


def small():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


dom = b"d" * 60 + b"." + b"e" * 60 + b".example.org"
data = b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n"
data += b"".join(b"RCPT TO:<%s%06d@%s>\r\n" % (b"x" * 120, i, dom) for i in range(100000)) + b"QUIT\r\n"
r = subprocess.run([pmtest.bin("smtp-recv"), "-h", "mx.nomem.test", "-n", "100000"], input=data, capture_output=True,
                   env=dict(env.env, RELAYCLIENT="", TCPREMOTEIP="192.0.2.7"), preexec_fn=small, timeout=120)
err = r.stderr.decode(errors="replace")
rs = smtp_replies(r.stdout)
t.ok("end=nomem" in err, "the envelope outgrew the limit (else this test tests nothing)", err[-300:])
t.eq(r.returncode, 0, "the session ends with 0")
t.ok(rs and rs[-1][0] == 421 and rs[-1][1][-1].startswith("4.3.0 mx.nomem.test "), "421 4.3.0 host, then the close",
     rs[-2:])
t.done()
