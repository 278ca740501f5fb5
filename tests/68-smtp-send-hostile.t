#!/usr/bin/python3
"""smtp-send against peers that misbehave in ways test 61 does not script:
a reply that never ends (250- forever), a 10 MB reply line, mixed codes in
one reply, a code out of range, 354 then a hangup, 421 after the data, 250
to DATA, a 554 greeting. Each must end in a temporary verdict, within the
timeout, and the enhanced code printed with it must be of class 4 (RFC
3463): queue-run keeps it as the recipient's last status and a "delayed"
report (RFC 3464) shows it, so a "temp ... 2.0.0" or "temp ... 5.3.2"
contradicts itself."""
import os, socket, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())


def run(script):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(30)
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write("example.org:[127.0.0.1]:%d tls=no\n" % srv.getsockname()[1])

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        try:
            script(c, c.makefile("rb"))
        except OSError:
            pass
        finally:
            c.close()
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "s@b.test", "-w", "3", "example.org", "a@example.org"],
                       input=b"Subject: x\r\n\r\nbody\r\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env.env, timeout=60)
    srv.close()
    th.join(10)
    return r.returncode, r.stdout.decode(errors="replace").split(" ", 4)


def greet(c, f, ext=b"250 peer\r\n"):
    c.sendall(b"220 peer\r\n")
    f.readline()
    c.sendall(ext)


def to_data(c, f):
    greet(c, f)
    for _ in range(2):   # MAIL, RCPT
        f.readline()
        c.sendall(b"250 ok\r\n")
    f.readline()         # DATA


def endless(c, f):
    c.sendall(b"220 peer\r\n")
    f.readline()
    for _ in range(200000):
        c.sendall(b"250-x\r\n")


def long_line(c, f):
    c.sendall(b"220 peer\r\n")
    f.readline()
    c.sendall(b"250 " + b"x" * 10_000_000 + b"\r\n")


def mixed(c, f):
    c.sendall(b"220-peer\r\n250 peer\r\n")
    time.sleep(1)


def out_of_range(c, f):
    greet(c, f)
    f.readline()
    c.sendall(b"699 what\r\n")
    time.sleep(1)


def hangup_354(c, f):
    to_data(c, f)
    c.sendall(b"354 go\r\n")


def after_dot(code):
    def s(c, f):
        to_data(c, f)
        c.sendall(b"354 go\r\n")
        while f.readline() not in (b".\r\n", b""):
            pass
        c.sendall(code)
        time.sleep(0.5)
    return s


def data_250(c, f):
    to_data(c, f)
    c.sendall(b"250 ok\r\n")
    f.readline()


def greeting_554(c, f):
    c.sendall(b"554 5.3.2 go away\r\n")
    f.readline()


cases = [("250- forever", endless), ("10 MB reply line", long_line), ("mixed codes in one reply", mixed),
         ("reply code 699", out_of_range), ("354 then hangup", hangup_354),
         ("421 after the data", after_dot(b"421 4.3.2 closing\r\n")),
         ("452 after the data", after_dot(b"452 4.3.1 full\r\n")),
         ("250 to DATA", data_250), ("554 greeting", greeting_554)]
for name, script in cases:
    rc, out = run(script)
    t.eq((rc, out[0]), (111, "temp"), name + ": temporary")
    t.ok(len(out) > 2 and out[2][:2] == "4.", name + ": enhanced code of class 4", out)
t.done()
