#!/usr/bin/env python3
# mailuser add and passwd on a terminal: the password is not echoed, and a
# signal while it is being typed (^C, SIGTERM, SIGHUP, SIGQUIT) kills the
# command as that signal but leaves the terminal echoing again, as
# passwd(1) and ssh-keygen do; nothing is changed.
import fcntl, os, resource, signal, subprocess, sys, termios, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import tty_echoing as echoing, read_fd_until as read_until

t = pmtest.TAP()
env = pmtest.Env()


def reap(p, timeout=10.0):
    end = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < end:
        time.sleep(0.02)
    if p.poll() is None:
        p.kill()
        p.wait()
    return p.returncode


def on_tty(argv):
    """argv on a new pseudo-terminal, its controlling one: (process, master, slave)"""
    master, slave = os.openpty()
    t.ok(echoing(slave), "a new terminal echoes")

    def ctty():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))   # SIGQUIT: no core file
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([pmtest.bin(argv[0])] + argv[1:], stdin=slave, stdout=slave, stderr=slave,
                         env=env.env, preexec_fn=ctty, close_fds=True)
    return p, master, slave


def users():
    try:
        with open(os.path.join(env.conf, "users")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


add = ["mailuser", "add", "-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID)]

# a password typed on the terminal: not echoed, echo back on afterwards
p, m, s = on_tty(add + ["-d", env.path("mail", "a"), "a@example.test"])
out = read_until(m, b"Password: ")
t.ok(b"Password: " in out, "prompt on the terminal", out)
t.ok(not echoing(s), "no echo while the password is typed")
os.write(m, b"s3cret-word\n")
t.eq(reap(p), 0, "user added")
out += read_until(m, b"\xff", 1.0)
t.ok(b"s3cret-word" not in out, "password not echoed", out)
t.ok(echoing(s), "echo on again afterwards")
os.close(m)
os.close(s)
before = users()
t.ok("a@example.test:" in before, "users has the user")

for name, sig, how in (("^C", signal.SIGINT, b"\x03"), ("SIGTERM", signal.SIGTERM, None),
                       ("SIGHUP", signal.SIGHUP, None), ("SIGQUIT", signal.SIGQUIT, b"\x1c")):
    for argv in (add + ["-d", env.path("mail", "b"), "b@example.test"], ["mailuser", "passwd", "a@example.test"]):
        what = "%s at %s's prompt" % (name, argv[1])
        p, m, s = on_tty(argv)
        out = read_until(m, b"Password: ")
        t.ok(b"Password: " in out and not echoing(s), what + ": prompt, echo off", out)
        os.write(m, b"half")
        if how:
            os.write(m, how)
        else:
            p.send_signal(sig)
        rc = reap(p)
        t.eq(rc, -sig, what + ": killed by that signal")
        t.ok(echoing(s), what + ": the terminal echoes again")
        t.eq(users(), before, what + ": nothing changed")
        os.close(m)
        os.close(s)

t.done()
