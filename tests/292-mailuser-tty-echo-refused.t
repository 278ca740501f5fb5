#!/usr/bin/env python3
# mailuser add and passwd with a terminal on stdin whose echo cannot be
# turned off: refused (111, a message saying so) before the prompt and the
# read, and nothing changed. The tcsetattr(3) that turns echo off was not
# checked: the password was read with echo on, onto the screen. Provoked
# without privileges: a process of an orphaned background process group
# gets EIO from tcsetattr on its controlling terminal (tcgetattr works).
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()

# Run on the pty's slave as stdin by a session leader (the terminal its
# controlling one, its process group the foreground one) that stays until
# the grandchild is done: the grandchild, in a new process group, runs
# argv once its parent has exited (the group orphaned), SIGTTOU at its
# default, and writes "rc\nstderr" back.
ORPHAN = r"""
import fcntl, os, signal, subprocess, sys, termios, time
os.setsid()
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
r, w = os.pipe()
a = os.fork()
if a == 0:
    os.setpgid(0, 0)
    if os.fork() == 0:
        parent, end = os.getppid(), time.monotonic() + 10
        while os.getppid() == parent and time.monotonic() < end:
            time.sleep(0.01)
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        p = subprocess.run(sys.argv[1:], stdin=0, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        os.write(w, b"%d\n" % p.returncode + p.stderr)
    os._exit(0)
os.close(w)
os.waitpid(a, 0)
out = b""
while True:
    chunk = os.read(r, 4096)
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
"""


add = ["mailuser", "add", "-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID)]
r = subprocess.run([pmtest.bin("mailuser")] + add[1:] + ["-d", env.path("mail", "a"), "a@example.test"],
                   input=b"s3cret-word\n", env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
t.ok(r.returncode == 0, "a user added (password on a pipe)", r.stderr)
users = os.path.join(env.conf, "users")
before = open(users).read()

for argv in (add + ["-d", env.path("mail", "b"), "b@example.test"], ["mailuser", "passwd", "a@example.test"]):
    master, slave = os.openpty()
    p = subprocess.run([sys.executable, "-c", ORPHAN, pmtest.bin(argv[0])] + argv[1:], stdin=slave,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, close_fds=True, timeout=30)
    os.close(master)
    os.close(slave)
    rc, _, err = p.stdout.partition(b"\n")
    t.ok(rc == b"111", argv[1] + ": a terminal that keeps echo on: refused (111)", p.stdout + p.stderr)
    t.ok(b"echo" in err and b"Password:" not in err, argv[1] + ": says why, before the prompt", err)
    t.eq(open(users).read(), before, argv[1] + ": nothing changed")

t.done()
