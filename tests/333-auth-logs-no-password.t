#!/usr/bin/python3
# THREATS I13, "no password in a log": every way a login can go wrong in
# smtp-recv and pop-serve (wrong password, unknown user, foreign authzid,
# malformed and cancelled SASL, a password pipelined after a refused user
# name so that it arrives as a command, PASS out of turn or with a CR, a
# legacy hash, too many failures, checkpassword refusing) leaves the
# password out of every log line, in clear and in base64, while the
# failures themselves are logged.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
PW = "Zq7-unique pw"
env.add_user("u@example.test", PW)
env.add_user("des@example.test", "x")
env.set_hashes({"des@example.test": "ZqFxQlh7Fg5kI"})   # DES of the first 8 bytes of PW
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}


def b64(b):
    return base64.b64encode(b)


PWB = PW.encode()
SECRETS = [PWB, PWB[:8], b64(PWB), b64(b"\0u@example.test\0" + PWB), b64(b"\0des@example.test\0" + PWB)]


def leaks(text):
    return [s for s in SECRETS if s in text]


# smtp-recv
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
QENV = dict(FAST, QMAILQUEUE=os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp-fakeq"), FAKEQ=FAKEQ,
            TCPREMOTEIP="192.0.2.9")
plain = b"AUTH PLAIN " + b64(b"\0u@example.test\0" + PWB) + b"\r\n"
SMTP = [
    ("PLAIN, wrong password", ["-P"], b"AUTH PLAIN " + b64(b"\0u@example.test\0" + PWB + b"x") + b"\r\n",
     "result=bad"),
    ("PLAIN, unknown user", ["-P"], b"AUTH PLAIN " + b64(b"\0nobody@example.test\0" + PWB) + b"\r\n", "result=bad"),
    ("PLAIN, foreign authzid", ["-P"], b"AUTH PLAIN " + b64(b"v@example.test\0u@example.test\0" + PWB) + b"\r\n",
     "authzid-refused"),
    ("PLAIN, DES hash", ["-P"], b"AUTH PLAIN " + b64(b"\0des@example.test\0" + PWB) + b"\r\n", "result=bad"),
    ("LOGIN, wrong password", ["-P"], b"AUTH LOGIN\r\n" + b64(b"u@example.test") + b"\r\n" + b64(PWB + b"x") + b"\r\n",
     "result=bad"),
    ("LOGIN, password as commands", ["-P"], b"AUTH LOGIN\r\n%%%\r\n" + b64(PWB) + b"\r\n" + PWB + b"\r\n", "end="),
    ("PLAIN cancelled, then sent", ["-P"], b"AUTH PLAIN\r\n*\r\n" + plain.split(b" ")[2], "end="),
    ("PLAIN without TLS", [], plain, "end="),
    ("too many failures", ["-P", "-a", "2"], b"AUTH PLAIN " + b64(b"\0u@example.test\0" + PWB + b"1") + b"\r\n" +
     b"AUTH PLAIN " + b64(b"\0u@example.test\0" + PWB + b"2") + b"\r\n" + plain, "end=authfail"),
]
for name, args, dialogue, want in SMTP:
    r = env.run(["smtp-recv", *args], input=b"EHLO x\r\n" + dialogue + b"QUIT\r\n", env=QENV, check=False)
    err = r.stderr
    t.ok(want.encode() in err and not leaks(err), "smtp-recv, %s: logged (%s), no password" % (name, want),
         err.decode(errors="replace"))
r = env.run(["smtp-recv", "-P"], input=b"EHLO x\r\n" + plain + b"QUIT\r\n", env=QENV, check=False)
t.ok(b"auth=u@example.test" in r.stderr and not leaks(r.stderr), "smtp-recv: a good login, no password")

# pop-serve, its own check and checkpassword's
port = env.server(["pop-serve", "-P", "-f", "3"], env=FAST)
cp = env.path("checkpw")
with open(cp, "w") as f:
    f.write("#!/bin/sh\nexec 3<&-\nexit 1\n")
os.chmod(cp, 0o755)
port_k = env.server(["pop-serve", "-P", "-k", cp, pmtest.bin("pop-serve"), "-m", "Maildir"], env=FAST)
POP = [
    [b"USER u@example.test", b"PASS " + PWB + b"x"],
    [b"USER nobody@example.test", b"PASS " + PWB],
    [b"PASS " + PWB],
    [b"USER u@example.test", b"PASS " + PWB[:3] + b"\r" + PWB[3:]],
    [b"USER des@example.test", b"PASS " + PWB],
    [b"AUTH PLAIN " + b64(b"v@example.test\0u@example.test\0" + PWB)],
    [b"AUTH PLAIN", b64(b"\0u@example.test\0" + PWB + b"x")],
    [b"AUTH LOGIN", b"%%%", b64(PWB)],
    [b"AUTH LOGIN " + b64(b"u@example.test"), b64(PWB + b"x")],
    [b"USER u@example.test", b"PASS a", b"PASS b", b"USER u@example.test", b"PASS " + PWB],
    [b"USER u@example.test", b"PASS " + PWB, b"PASS " + PWB, b"QUIT"],
]
for cmds in POP:
    for p in (port, port_k):
        r = pmtest.PopRaw(p)
        for c in cmds:
            r.cmd(c)
        r.close()
for p, name in ((port, "pop-serve"), (port_k, "pop-serve -k")):
    pmtest.wait_for(lambda: env.log(p).count("event=end") >= len(POP))
    log = env.log(p).encode()
    t.ok(b"result=bad" in log and not leaks(log), "%s: failures logged, no password in any line" % name,
         log.decode(errors="replace")[-2000:])
t.ok(b"user=u@example.test ip=127.0.0.1 tls=no result=ok" in env.log(port).encode(), "pop-serve: the good login logged")
t.done()
