#!/usr/bin/python3
# smtp-recv's log lines stay within PIPE_BUF (4096 bytes on Linux), each
# written with one write(2): lines of concurrent sessions never interleave
# in the log pipe and s6-log never splits one. A message to many long
# recipients lists them up to a budget, then says how many it left out.
import os, re, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

PIPE_BUF = 4096
t = pmtest.TAP()
env = pmtest.Env()
N = 120
DOM = "a" * 63 + "." + "b" * 63 + "." + "c" * 40 + ".example"   # RFC 5321's limits: 64 local, 63 a label
rcpts = [("r%03d" % i) + "x" * 60 + "@" + DOM for i in range(N)]
cmds = b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\n" + \
    b"".join(b"RCPT TO:<" + r.encode() + b">\r\n" for r in rcpts) + \
    b"DATA\r\nSubject: many\r\n\r\nbody\r\n.\r\nQUIT\r\n"
E = {"TCPREMOTEIP": "192.0.2.7", "RELAYCLIENT": ""}
r = env.run(["smtp-recv", "-n", "200"], input=cmds, env=E, check=False)
codes = smtp_codes(r.stdout)
t.eq(codes[-3:], [354, 250, 221], "%d recipients of %d bytes each: queued" % (N, len(rcpts[0])))
lines = r.stderr.decode(errors="replace").splitlines(True)
msg = [l for l in lines if "event=message" in l]
t.eq(len(msg), 1, "one message line")
m = msg[0] if msg else ""
t.ok(len(m.encode()) <= PIPE_BUF, "the message line is at most PIPE_BUF bytes", len(m.encode()))
listed = re.findall(r" rcpt=(\S+)", m)
more = re.search(r" rcpts_more=(\d+)", m)
t.ok(more is not None and len(listed) + int(more.group(1)) == N and listed == rcpts[:len(listed)] and listed,
     "recipients listed in order up to the budget, then rcpts_more= the rest", (len(listed), more and more.group(0)))
t.ok(re.search(r" nrcpt=%d " % N, m) and " result=queued" in m and re.search(r" code=\"250 ", m) and
     re.search(r" size=\d+", m), "nrcpt, size, result and code are all on the line", m[-200:])
t.ok(all(len(l.encode()) <= PIPE_BUF for l in lines), "every log line is at most PIPE_BUF bytes")

# a few recipients: all listed, no rcpts_more
cmds2 = b"EHLO c\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<a@far.example>\r\nRCPT TO:<b@far.example>\r\n" + \
    b"DATA\r\nSubject: two\r\n\r\nbody\r\n.\r\nQUIT\r\n"
r2 = env.run(["smtp-recv"], input=cmds2, env=E, check=False)
m2 = [l for l in r2.stderr.decode(errors="replace").splitlines() if "event=message" in l]
t.ok(m2 and re.findall(r" rcpt=(\S+)", m2[0]) == ["a@far.example", "b@far.example"] and "rcpts_more" not in m2[0],
     "two recipients: both listed, no rcpts_more", m2)

# one write(2) per line
if shutil.which("strace"):
    trace = env.path("trace")
    e = dict(env.env, **E)
    subprocess.run(["strace", "-f", "-e", "trace=write,writev", "-e", "signal=none", "-s", "0", "-o", trace,
                    pmtest.bin("smtp-recv"), "-n", "200"], input=cmds, env=e,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    w2 = [l for l in open(trace, errors="replace") if re.search(r"\bwritev?\(2,", l)]
    sizes = [int(x.group(1)) for x in (re.search(r"= (\d+)\s*$", l) for l in w2) if x]
    t.ok(len(w2) == 2 and len(sizes) == 2 and all(s <= PIPE_BUF for s in sizes),
         "two log lines (message, session), each one write(2) of at most PIPE_BUF", (len(w2), sizes))
else:
    t.ok(True, "# SKIP no strace")

t.done()
