#!/usr/bin/env python3
# ^Z at mailuser's password prompt: the terminal echoes again while the
# command is stopped (the shell's prompt and commands were typed blind),
# and once continued in the foreground echo is off again, the prompt
# comes back and the password is read, as passwd(1) and ssh-keygen do.
# Continued in the background first, it leaves echo alone there and
# stops again at its read (SIGTTIN), the terminal still echoing. The
# half-typed line before the stop is thrown away.
# A little job-control shell (the session leader, staying in its own
# process group so that mailuser's group is not orphaned: an orphaned one
# ignores ^Z) runs mailuser in the foreground and tells the test, on a
# pipe, each stop and the terminal's echo flag at that moment; the test
# says, on another pipe, "fg" or "bg" for each.
import os, signal, subprocess, sys, warnings
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import tty_echoing as echoing, read_fd_until as read_until

t = pmtest.TAP()
env = pmtest.Env()

SHELL = r"""
import fcntl, os, signal, sys, termios
signal.alarm(60)
os.setsid()
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
rep, cmd = int(sys.argv[1]), os.fdopen(int(sys.argv[2]))
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpid())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.dup2(0, 1)
    os.dup2(0, 2)
    os.closerange(3, 256)
    os.execv(sys.argv[3], sys.argv[3:])
try:
    os.setpgid(pid, pid)
except OSError:
    pass
while True:
    _, st = os.waitpid(pid, os.WUNTRACED)
    if os.WIFSTOPPED(st):
        echo = bool(termios.tcgetattr(0)[3] & termios.ECHO)
        os.write(rep, b"stopped %d echo=%d\n" % (os.WSTOPSIG(st), echo))
        how = cmd.readline().strip()
        os.tcsetpgrp(0, pid if how == "fg" else os.getpgrp())
        os.killpg(pid, signal.SIGCONT)
        continue
    os.write(rep, b"exit %d\n" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else -os.WTERMSIG(st)))
    break
"""


add = ["mailuser", "add", "-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID)]
r = subprocess.run([pmtest.bin("mailuser")] + add[1:] + ["-d", env.path("mail", "a"), "a@example.test"],
                   input=b"first-word\n", env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
t.ok(r.returncode == 0, "a user added (password on a pipe)", r.stderr)
users = os.path.join(env.conf, "users")


def hash_of(addr):
    for line in open(users):
        if line.startswith(addr + ":"):
            return line.split(":")[1]
    return None


def password_is(addr, pw):
    """the users file holds pw's hash for addr (crypt(3), as mailuser wrote it)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import crypt
    h = hash_of(addr)
    return bool(h) and crypt.crypt(pw, h) == h


for plan in (["fg"], ["bg", "fg"]):
    for argv in (add + ["-d", env.path("mail", "b" + plan[0]), "b%s@example.test" % plan[0]],
                 ["mailuser", "passwd", "a@example.test"]):
        what = "%s, ^Z then %s" % (argv[1], " then ".join(plan))
        before = hash_of("a@example.test")
        master, slave = os.openpty()
        rep_r, rep_w = os.pipe()
        cmd_r, cmd_w = os.pipe()
        p = subprocess.Popen([sys.executable, "-c", SHELL, str(rep_w), str(cmd_r), pmtest.bin(argv[0])] + argv[1:],
                             stdin=slave, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env.env,
                             pass_fds=(rep_w, cmd_r))
        os.close(rep_w)
        os.close(cmd_r)
        out = read_until(master, b"Password: ")
        t.ok(b"Password: " in out and not echoing(slave), what + ": prompt, echo off", out)
        os.write(master, b"half\x1a")
        rep = read_until(rep_r, b"\n")
        t.eq(rep, b"stopped %d echo=1\n" % signal.SIGTSTP, what + ": stopped by ^Z, the terminal echoing")
        if plan[0] == "bg":
            os.write(cmd_w, b"bg\n")
            rep = read_until(rep_r, b"\n")
            t.eq(rep, b"stopped %d echo=1\n" % signal.SIGTTIN,
                 what + ": continued in the background: stopped at its read, echo left on")
        os.write(cmd_w, b"fg\n")
        out = read_until(master, b"Password: ")
        t.ok(b"Password: " in out and not echoing(slave), what + ": in the foreground again: prompt, echo off", out)
        os.write(master, b"s3cret-word\n")
        rep = read_until(rep_r, b"\n")
        t.eq(rep, b"exit 0\n", what + ": done, 0")
        out += read_until(master, b"\xff", 0.5)
        t.ok(b"s3cret-word" not in out, what + ": password not echoed", out)
        t.ok(echoing(slave), what + ": echo on afterwards")
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for fd in (master, slave, rep_r, cmd_w):
            os.close(fd)
        addr = argv[-1]
        if argv[1] == "passwd":
            t.ok(hash_of(addr) != before, what + ": the password changed")
        t.ok(password_is(addr, "s3cret-word"), what + ": the password is the line typed after the stop", hash_of(addr))

t.done()
