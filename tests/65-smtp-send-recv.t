#!/usr/bin/python3
"""smtp-send to our own server: tcpserver + tls-serve + smtp-recv (MX role)
through the routes file, STARTTLS verified. Both sides checked: the result
lines, what smtp-recv queued (byte-exact apart from its Received line,
which says ESMTPS), its log, an unknown user refused at RCPT."""
import glob, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
for p in ("tls-serve", "smtp-recv", "smtp-send", "mailuser"):
    if not os.path.exists(pmtest.bin(p)):
        t.skip_all(p + " not built")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
ca = env.make_cert()
FAKEQ, QENV, U = env.fake_queue()
port = env.server(["tls-serve", *U, pmtest.bin("smtp-recv"), "-r", "mx"], env=QENV)
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.test:[127.0.0.1]:%d tls=verify\n" % port)

msg = (b"From: a@sender.test\nSubject: to smtp-recv\n\n.leading dot\n..two\nline\r\nbare\rCR\n"
       + b"x" * 900 + b"\ncaf\xc3\xa9\nlast")
wire_msg = (b"From: a@sender.test\nSubject: to smtp-recv\n\n.leading dot\n..two\nline\nbare\nCR\n"
            + b"x" * 900 + b"\ncaf\xc3\xa9\nlast\n")
r = env.run(["smtp-send", "-C", ca, "-f", "a@sender.test", "example.test", "u@example.test", "nobody@example.test"],
            input=msg, check=False)
out = [l.split(" ", 4) for l in r.stdout.decode().splitlines()]
err = r.stderr.decode()
t.eq(r.returncode, 111, "one accepted, one unknown: exit 111")
t.eq([o[:4] for o in out], [["ok", "u@example.test", "2.0.0", "127.0.0.1"],
                            ["perm", "nobody@example.test", "5.1.1", "127.0.0.1"]], "verdicts from smtp-recv")
t.ok("tls=yes" in err, "smtp-send: TLS with verification", err)

msgs = sorted(glob.glob(os.path.join(FAKEQ, "msg.*")))
t.eq(len(msgs), 1, "one message queued")
if msgs:
    q = open(msgs[0], "rb").read()
    envl = open(msgs[0].replace("msg.", "env."), "rb").read()
    t.eq(envl, b"Fa@sender.test\nTu@example.test\n\n", "envelope: sender and the accepted recipient")
    # the Received line may be folded: drop it and its continuation lines
    lines = q.split(b"\n")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    t.ok(lines[0].startswith(b"Received:") and b"ESMTPS" in b"\n".join(lines[:i]), "Received line says ESMTPS",
         b"\n".join(lines[:i]))
    t.eq(b"\n".join(lines[i:]), wire_msg, "queued bytes equal the message (CRLF to LF, dots unstuffed)")
log = env.log(port)
t.ok("TLSv1.3" in log or "TLSv1.2" in log, "smtp-recv/tls-serve logged TLS", log[-800:])
t.done()
