#!/usr/bin/python3
# smtp-recv into the real queue: in-process (no QMAILQUEUE) and through
# queue-add (QMAILQUEUE=queue-add): messages, envelopes and DSN in the
# queue; faults: queue-add killed mid-write, smtp-recv killed mid-DATA or
# right after the 250, a full queue file system.
import os, shutil, signal, smtplib, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, children

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("queue-add")):
    t.skip_all("queue-add not built")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
env.add_user("v@example.test", "pw")
Q = env.queue


def queue():
    """{id: (envelope fields, message bytes)} for complete messages in new/"""
    out = {}
    if not os.path.isdir(os.path.join(Q, "new")):
        return out
    for i in os.listdir(os.path.join(Q, "new")):
        with open(os.path.join(Q, "mess", i), "rb") as f:
            data = f.read()
        h = data[:64].split()
        msgoff, msglen, envoff, envlen = (int(x) for x in h[1:5])
        fields = data[envoff:envoff + envlen].split(b"\0")
        out[i] = (fields, data[msgoff:msgoff + msglen])
    return out


def clear():
    for d in ("new", "mess"):
        p = os.path.join(Q, d)
        if os.path.isdir(p):
            for f in os.listdir(p):
                os.unlink(os.path.join(p, f))


QADD = {"QMAILQUEUE": pmtest.bin("queue-add")}
layouts = []
for how, extra in (("in-process", None), ("queue-add", QADD)):
    port = env.server(["smtp-recv"], env=extra)
    c = smtplib.SMTP("127.0.0.1", port, timeout=20)
    c.ehlo("client.test")
    for i in range(3):
        c.sendmail("s%d@sender.test" % i, ["u@example.test", "v@example.test"], b"Subject: %d\r\n\r\nbody %d\r\n" % (i, i))
    c.quit()
    q = queue()
    t.eq(len(q), 3, "three messages queued " + how)
    senders = sorted(f for fields, _ in q.values() for f in fields if f.startswith(b"F"))
    t.eq(senders, [b"Fs0@sender.test", b"Fs1@sender.test", b"Fs2@sender.test"], "envelope senders " + how)
    t.ok(all(fields[-4:] == [b"Tu@example.test", b"Tv@example.test", b"", b""] for fields, _ in q.values()),
         "envelope recipients " + how, [f for f, _ in q.values()])
    t.ok(all(m.startswith(b"Received: from client.test") and m.endswith(b"\n\nbody %s\n" % m.split(b"Subject: ")[1][:1])
             for _, m in q.values()), "message bytes: Received line, LF line ends " + how)
    # the same file layout either way: header fields, envelope after it
    layouts.append(sorted((len(m), [f[:1] for f in fields]) for fields, m in q.values()))
    clear()
t.eq(layouts[0], layouts[1], "in-process and queue-add write the same layout")

# DSN into the queue envelope
r = env.run(["smtp-recv"], input=b"EHLO x\r\nMAIL FROM:<a@b.test> RET=FULL ENVID=e1\r\nRCPT TO:<u@example.test> NOTIFY=SUCCESS ORCPT=rfc822;u@example.test\r\nDATA\r\nx\r\n.\r\n", check=False)
t.eq(smtp_codes(r.stdout)[-1], 250, "DSN message queued")
fields = list(queue().values())[0][0]
t.ok(b"DRET=FULL ENVID=e1\nNOTIFY=SUCCESS ORCPT=rfc822;u@example.test\n" in fields, "PIPEMAIL_DSN stored by queue-add", fields)
clear()

# BDAT into queue-add
r = env.run(["smtp-recv"], input=b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nBDAT 14 LAST\r\nSubject: b\r\n\r\n", check=False)
t.eq(smtp_codes(r.stdout)[-1], 250, "BDAT message queued")
t.ok(list(queue().values())[0][1].endswith(b"\nSubject: b\n\n"), "BDAT bytes in the queue")
clear()


def start(extra=None):
    return subprocess.Popen([pmtest.bin("smtp-recv")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=dict(env.env, **(extra or {})))


def headed():
    """files in mess/ that carry a header: mail queue-run would deliver"""
    d = os.path.join(Q, "mess")
    out = []
    for f in os.listdir(d) if os.path.isdir(d) else []:
        with open(os.path.join(d, f), "rb") as fh:
            if fh.read(4) == b"PMQ1":
                out.append(f)
    return out


HEAD = b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"

# queue-add killed mid-write -> 451, nothing queued
p = start(QADD)
p.stdin.write(HEAD + b"Subject: k\r\n\r\n" + b"x" * 900 + b"\r\n")
p.stdin.flush()
kids = []
for _ in range(200):
    kids = children(p.pid)
    if kids:
        break
    time.sleep(0.01)
t.ok(kids, "queue-add running during DATA")
for k in kids:
    os.kill(k, signal.SIGKILL)
time.sleep(0.1)
out, _ = p.communicate(b"y" * 900 + b"\r\n.\r\nQUIT\r\n", timeout=30)
t.eq(smtp_codes(out)[-2:], [451, 221], "queue-add killed mid-write -> 451")
t.eq(queue(), {}, "nothing queued")
clear()

# smtp-recv killed mid-DATA -> nothing queued
p = start()
p.stdin.write(HEAD + b"Subject: k\r\n\r\n" + b"x" * 5000 + b"\r\n")
p.stdin.flush()
time.sleep(0.2)
p.kill()
p.wait()
time.sleep(0.3)
t.eq(queue(), {}, "smtp-recv killed mid-DATA: nothing queued")
t.eq(headed(), [], "killed mid-DATA: no file in mess/ that reads as mail")
clear()

# the client goes away mid-DATA (in-process writer): nothing left at all
p = start()
p.stdin.write(HEAD + b"Subject: k\r\n\r\n" + b"x" * 5000 + b"\r\n")
p.stdin.close()
p.wait(timeout=30)
t.eq(os.listdir(os.path.join(Q, "mess")), [], "client gone mid-DATA: the partial file is removed")
clear()

# smtp-recv killed right after the 250 -> the message is queued
p = start()
p.stdin.write(HEAD + b"Subject: k\r\n\r\nkept\r\n.\r\n")
p.stdin.flush()
got = b""
while b"250 2.0.0" not in got:
    b = p.stdout.read1(4096)
    if not b:
        break
    got += b
p.kill()
p.wait()
q = queue()
t.ok(len(q) == 1 and list(q.values())[0][1].endswith(b"Subject: k\n\nkept\n"), "killed right after 250: message in the queue")
clear()

# a full queue file system -> 452 (needs a private mount namespace)
if os.getuid() == 0 and shutil.which("unshare"):
    full = env.path("fullq")
    os.mkdir(full)
    script = ("mount -t tmpfs -o size=64k tmpfs %s || exit 99; exec %s" % (full, pmtest.bin("smtp-recv")))
    big = b"".join(b"%070d\r\n" % i for i in range(4000))
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], input=HEAD + big + b".\r\nQUIT\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env.env, PIPEMAIL_QUEUE=full), timeout=60)
    if r.returncode == 99 or not r.stdout:
        t.ok(True, "# SKIP no tmpfs mount here")
    else:
        t.eq(smtp_codes(r.stdout)[-2:], [452, 221], "full queue file system -> 452 4.3.1")
# in-process: the 250 only after the file and mess/ are synced (I1), and
# injected write and sync failures give 452 with nothing left behind (I2, I3)
if shutil.which("strace"):
    msg = HEAD + b"Subject: s\r\n\r\nsynced\r\n.\r\nQUIT\r\n"
    trace = env.path("trace")
    r = subprocess.run(["strace", "-f", "-e", "trace=pwrite64,linkat,fsync,write", "-o", trace, pmtest.bin("smtp-recv")],
                       input=msg, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env.env, timeout=60)
    calls = []
    for line in open(trace, errors="replace"):
        for c in ("pwrite64", "linkat", "fsync"):
            if (" %s(" % c) in line or line.startswith(c + "("):
                calls.append(c)
        if "write(" in line and "250 2.0.0" in line:
            calls.append("reply250")
    t.ok(smtp_codes(r.stdout)[-2:] == [250, 221] and "reply250" in calls and
         calls[calls.index("reply250") - 4:calls.index("reply250")] == ["pwrite64", "fsync", "fsync", "linkat"],
         "250 after header write, fsync of the file and of mess/, then the new/ notice", calls)
    clear()
    for what, inject in (("ENOSPC on write", "pwrite64:error=ENOSPC:when=1"), ("EIO on fsync", "fsync:error=EIO:when=1"),
                         ("EIO on link", "linkat:error=EIO:when=1")):
        r = subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", "inject=" + inject, pmtest.bin("smtp-recv")],
                           input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
        codes = smtp_codes(r.stdout)
        t.ok(len(codes) >= 2 and 400 <= codes[-2] < 500 and codes[-1] == 221, what + ": a 4xx, never 250 or 5xx", codes)
        left = [f for d in ("mess", "new") for f in os.listdir(os.path.join(Q, d))]
        t.eq(left, [], what + ": nothing left in the queue")
        t.ok(b"unable to" in r.stderr, what + ": the reason is logged", r.stderr[-300:])
        clear()

# the queue program inherits none of the UCSPI-TLS descriptors, also when
# the session never used STARTTLS (they would keep tls-serve's pipes open)
fdq = env.path("fdq")
with open(fdq, "w") as f:
    f.write("#!/bin/sh\nls /proc/$$/fd > \"$FDLIST\"\ncat >/dev/null\nexec cat <&1 >/dev/null\n")
os.chmod(fdq, 0o755)
pipes = [os.pipe() for _ in range(3)]
for want, (rd, wr) in zip((40, 41, 42), pipes):
    os.dup2(wr if want == 40 else rd if want == 41 else wr, want)
fdlist = env.path("fdlist")
r = subprocess.run([pmtest.bin("smtp-recv")], input=HEAD + b"Subject: fd\r\n\r\nx\r\n.\r\nQUIT\r\n",
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(40, 41, 42), timeout=60,
                   env=dict(env.env, QMAILQUEUE=fdq, FDLIST=fdlist, SSLCTLFD="40", SSLREADFD="41", SSLWRITEFD="42"))
fds = open(fdlist).read().split() if os.path.exists(fdlist) else None
t.ok(fds is not None and not {"40", "41", "42"} & set(fds), "queue program holds no UCSPI-TLS fd", repr(fds))
for fd in (40, 41, 42):
    os.close(fd)

t.done()
