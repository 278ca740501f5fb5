#!/usr/bin/python3
# smtp-recv, adversarial: clients that vanish or misbehave at awkward
# moments, with the real queue writer (no QMAILQUEUE): nothing may be
# left behind in the queue.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
BASE = {"TCPREMOTEIP": "192.0.2.7", "PIPEMAIL_LOGIN_DELAY_MS": "0"}
MAIL = b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\n"


def qfiles(sub="mess"):
    d = os.path.join(env.queue, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def start(args=()):
    e = dict(env.env)
    e.update(BASE)
    return subprocess.Popen([pmtest.bin("smtp-recv"), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=e)


def read_until(p, marker, limit=5.0):
    buf, end = b"", time.monotonic() + limit
    while marker not in buf and time.monotonic() < end:
        b = p.stdout.read1(4096)
        if not b:
            break
        buf += b
    return buf


# the client is gone when the 354 goes out (it reset the connection after
# pipelining MAIL, RCPT, DATA): the queue file opened for DATA is removed
r = env.run(["smtp-recv"], input=MAIL + b"DATA\r\nx\r\n.\r\n", env=BASE, check=False)
t.eq(smtp_codes(r.stdout)[-1], 250, "a message queued first")
before = qfiles()
p = start()
p.stdin.write(MAIL)
p.stdin.flush()
read_until(p, b"2.1.5")
p.stdout.close()
p.stdin.write(b"DATA\r\n")
p.stdin.flush()
time.sleep(0.3)
p.stdin.close()
p.wait(10)
err = p.stderr.read().decode(errors="replace")
t.ok("end=write" in err, "354 to a vanished client: session ends on the write error", err)
t.eq(qfiles(), before, "354 to a vanished client: no queue file left behind")

# -D is the time for a whole message: a BDAT transaction sent as many small
# chunks, each in time, must not get a fresh deadline per chunk
p = start(["-t", "5", "-d", "5", "-D", "2"])
p.stdin.write(MAIL)
p.stdin.flush()
read_until(p, b"2.1.5")
before = qfiles()
t0, got = time.monotonic(), b""
for i in range(8):
    try:
        p.stdin.write(b"BDAT 1\r\nx")
        p.stdin.flush()
    except BrokenPipeError:
        break
    got += read_until(p, b"\r\n", 2.0)
    if b"421" in got:
        break
    time.sleep(0.6)
try:
    p.stdin.write(b"BDAT 1 LAST\r\ny")
    p.stdin.close()
except BrokenPipeError:
    pass
got += p.stdout.read()
p.wait(10)
t.ok(b"421 4.4.2" in got and time.monotonic() - t0 < 4.5, "BDAT chunks in time each: the message deadline (-D) still ends it", got)
t.eq(qfiles(), before, "BDAT past the message deadline: nothing queued")

# RFC 5321 4.5.3.1.6: the 1000-byte line limit does not count the dot
# added for transparency: a 998-byte line that starts with "." arrives as
# 999 bytes plus CR LF and is legal
def session(data, args=()):
    return env.run(["smtp-recv", *args], input=data, env=BASE, check=False)


r = session(MAIL + b"DATA\r\n.." + b"a" * 997 + b"\r\n.\r\nQUIT\r\n")
t.eq(smtp_codes(r.stdout)[-2:], [250, 221], "998-byte line starting with a dot (stuffed to 999): accepted")
r = session(MAIL + b"DATA\r\n.." + b"a" * 998 + b"\r\n.\r\nQUIT\r\n")
t.eq(smtp_codes(r.stdout)[-2:], [554, 221], "999-byte line starting with a dot: still over the limit")

# recipients past -n get 452 and the client sends them again later (RFC
# 5321 4.5.3.1.10): that is no error, or a client with more recipients
# than -n plus -e could never deliver to any of them
r = session(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n" + b"RCPT TO:<u@example.test>\r\n" * 10 + b"DATA\r\nx\r\n.\r\nQUIT\r\n",
            ["-n", "3", "-e", "5"])
t.eq(smtp_codes(r.stdout), [220, 250, 250] + [250] * 3 + [452] * 7 + [354, 250, 221],
     "recipients over -n: 452 each, not counted as errors; the accepted ones get the message")
r = session(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n" + b"RCPT TO:<u@example.test>\r\n" * 1010, ["-n", "1", "-e", "3"])
c = smtp_codes(r.stdout)
t.ok(c[-1] == 421 and c.count(452) == 1003, "a RCPT flood past -n still ends the session (1000 excess, then -e)", c[-5:])

# a file size limit (ulimit -f, EFBIG) is a full disk, not a crash: SIGXFSZ
# must not kill the session before its 452, nor leave a partial queue file
before = qfiles()
e = dict(env.env)
e.update(BASE)
big = MAIL + b"DATA\r\n" + (b"x" * 998 + b"\r\n") * 200 + b".\r\nQUIT\r\n"
r = subprocess.run(["sh", "-c", 'ulimit -f 64; exec "$0"', pmtest.bin("smtp-recv")], input=big, env=e,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
t.eq(smtp_codes(r.stdout)[-2:], [452, 221], "file size limit while queueing: 452, session goes on")
t.eq(qfiles(), before, "file size limit: no partial queue file left")

# a BDAT chunk outside any transaction is read and dropped; a client that
# ends (or stalls) inside it must not crash the server
r = session(b"EHLO x\r\nBDAT 17\r\nabc")
t.ok(r.returncode == 0 and b"end=eof-in-data" in r.stderr, "EOF inside a BDAT chunk without MAIL: clean end", (r.returncode, r.stderr[-300:]))
p = start(["-d", "1"])
p.stdin.write(b"EHLO x\r\nBDAT 17\r\nabc")
p.stdin.flush()
out = read_until(p, b"421", 10)
p.stdin.close()
p.wait(10)
t.ok(p.returncode == 0 and b"421 4.4.2" in out, "a client stalling in that chunk: 421, no crash", (p.returncode, out[-100:]))

# a client that pipelines a flood and then reads its replies a trickle at a
# time must not hold the session past -t per reply: writes have a deadline
# too, not only an idle timeout that every few bytes read renew
import threading
p = start(["-t", "2", "-j", "100000"])   # -j: the flood must not end at the junk cap first
flood = b"EHLO x\r\n" + b"NOOP\r\n" * 100000 + b"QUIT\r\n"


def feed():
    try:
        p.stdin.write(flood)
        p.stdin.close()
    except (BrokenPipeError, ValueError):
        pass


threading.Thread(target=feed, daemon=True).start()
t0 = time.monotonic()
while p.poll() is None and time.monotonic() - t0 < 15:
    if not p.stdout.read1(2048):
        break
    time.sleep(0.5)
alive = p.poll() is None
if alive:
    p.kill()
p.wait(10)
err = p.stderr.read().decode(errors="replace")
t.ok(not alive and "end=write" in err, "a reader of 4 KB/s cannot hold a flooded session past -t (2 s) per reply", err[-200:])

# the message log line names the queue id (issue 3), so that an admin can
# follow a message from smtp-recv into queue-run's log
before = set(qfiles())
r = session(MAIL + b"DATA\r\nSubject: id\r\n\r\nx\r\n.\r\nQUIT\r\n")
new = sorted(set(qfiles()) - before)
line = [l for l in r.stderr.decode(errors="replace").splitlines() if "event=message" in l]
t.ok(len(new) == 1 and line and (" id=%s " % new[0]) in line[0] + " ", "message log line carries the queue id", (new, line))

t.done()
