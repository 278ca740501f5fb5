#!/usr/bin/python3
# SMTP smuggling (THREATS I5): no end-of-data variant but CRLF.CRLF ends
# DATA; a smuggled MAIL/RCPT/DATA after one never becomes a second message.
import glob, os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
HERE = os.path.dirname(os.path.abspath(__file__))
QENV = {"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ}


def queued():
    out = []
    for m in sorted(glob.glob(os.path.join(FAKEQ, "msg.*"))):
        n = m.rsplit(".", 1)[1]
        out.append((open(m, "rb").read(), open(os.path.join(FAKEQ, "env." + n), "rb").read()))
    for f in os.listdir(FAKEQ):
        os.unlink(os.path.join(FAKEQ, f))
    return out


SEQS = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
        b"\r\n\x00.\r\n", b"\r\r\n.\r\r\n", b".\n", b"\n..\n", b"\r\n.\r\r\n"]
HEAD = b"EHLO x\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: s\r\n\r\nbody"
EVIL = b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nsmuggled\r\n"
TAIL = b"\r\n.\r\nQUIT\r\n"

port = env.server(["smtp-recv"], env=QENV)
for seq in SEQS:
    bare = seq not in (b"\r\n\x00.\r\n",)
    want = [220, 250, 250, 250, 354, 554 if bare else 250, 221]
    # over a pipe: everything in one buffer
    r = env.run(["smtp-recv"], input=HEAD + seq + EVIL + TAIL, env=QENV, check=False)
    t.eq(smtp_codes(r.stdout), want, "pipe %r: one reply for the whole message" % seq)
    q = queued()
    t.ok(all(b"Fevil" not in e for _, e in q), "pipe %r: smuggled MAIL never a transaction" % seq)
    if bare:
        t.eq(q, [], "pipe %r: refused, nothing queued" % seq)
    else:
        t.ok(len(q) == 1 and EVIL in q[0][0].replace(b"\n", b"\r\n"), "pipe %r: smuggled lines stay in the body" % seq)
    # over TCP, the sequence in its own segments
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    s.sendall(HEAD)
    for i in range(len(seq)):
        s.sendall(seq[i:i + 1])
        time.sleep(0.002)
    s.sendall(EVIL)
    s.sendall(TAIL)
    got = pmtest.smtp_read_all(s)
    t.eq(smtp_codes(got), want, "tcp %r split byte by byte: same replies" % seq)
    q = queued()
    t.ok(all(b"Fevil" not in e for _, e in q) and len(q) == (0 if bare else 1), "tcp %r: queue as expected" % seq)

# the same through swaks --pipe, raw bytes (--no-data-fixup); swaks runs
# its child with SIGCHLD ignored, which smtp-recv must undo
import shutil, subprocess
if shutil.which("swaks"):
    for seq in (b"\n.\n", b"\r\n.\n", b"\n.\r\n"):
        data = env.path("data")
        with open(data, "wb") as f:
            f.write(b"Subject: s\r\n\r\nbody" + seq + EVIL + b"\r\n.")
        r = subprocess.run(["swaks", "--pipe", pmtest.bin("smtp-recv"), "--to", "u@example.test", "--from",
                            "s@sender.test", "--data", data, "--no-data-fixup", "--pipeline"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env.env, **QENV), timeout=60)
        out = r.stdout.decode(errors="replace")
        t.ok("554 5.6.0" in out and "evil" not in "".join(l for l in out.splitlines() if l.startswith("<")),
             "swaks --pipe %r refused as one message" % seq, out[-600:])
        t.eq(queued(), [], "swaks --pipe %r: nothing queued" % seq)
    with open(data, "wb") as f:
        f.write(b"Subject: fine\r\n\r\nok\r\n.")
    r = subprocess.run(["swaks", "--pipe", pmtest.bin("smtp-recv"), "--to", "u@example.test", "--from",
                        "s@sender.test", "--data", data, "--no-data-fixup", "--pipeline"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env.env, **QENV), timeout=60)
    t.ok(r.returncode == 0 and len(queued()) == 1, "swaks --pipe clean message queued", r.stdout.decode(errors="replace")[-600:])

# a bare LF never ends a command line, not even the skipped tail of an
# overlong one: the session ends instead of running what follows it
SMUG = b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"
r = env.run(["smtp-recv"], input=b"EHLO x\r\nNOOP\n" + SMUG, env=QENV, check=False)
t.eq(smtp_codes(r.stdout), [220, 250, 500, 421], "bare LF in a command: refused, connection closed")
t.eq(queued(), [], "bare LF in a command: nothing after it runs")
r = env.run(["smtp-recv"], input=b"EHLO x\r\n" + b"N" * 1500 + b"\n" + SMUG, env=QENV, check=False)
t.eq(smtp_codes(r.stdout), [220, 250, 500, 421], "overlong line ending in a bare LF: closed")
t.eq(queued(), [], "overlong line ending in a bare LF: nothing after it runs")
r = env.run(["smtp-recv"], input=b"EHLO x\r\n" + b"N" * 1500 + b"\r\nNOOP " + b"y" * 993 + b"\r\nNOOP " + b"y" * 994 + b"\r\nQUIT\r\n", env=QENV, check=False)
t.eq(smtp_codes(r.stdout), [220, 250, 500, 250, 500, 221], "overlong line skipped to its CRLF; 1000 bytes with CRLF is the cap")

# BDAT whose size cannot be read: its chunk cannot be skipped, so it must
# never be read as commands; a readable size with bad syntax eats its chunk
HEAD2 = b"EHLO x\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\n"
for size in (b"18446744073709551616", b"x", b"-1", b""):
    r = env.run(["smtp-recv"], input=HEAD2 + b"BDAT " + size + b"\r\n" + SMUG, env=QENV, check=False)
    t.eq(smtp_codes(r.stdout), [220, 250, 250, 250, 501, 421], "BDAT %r: 501, then 421 and the close" % size)
    t.eq(queued(), [], "BDAT %r: the chunk never runs as commands" % size)
r = env.run(["smtp-recv"], input=HEAD2 + b"BDAT 6 NOW\r\nRSET\r\nNOOP\r\n", env=QENV, check=False)
t.eq(smtp_codes(r.stdout), [220, 250, 250, 250, 501, 250], "BDAT 6 NOW: 501 and its chunk eaten")

t.done()
