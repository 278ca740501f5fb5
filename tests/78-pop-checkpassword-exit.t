#!/usr/bin/python3
# pop-serve -k: a checkpassword program that exits before reading fd 3
# (a refusal that does not look, or one that cannot even be executed) is
# an -ERR and the session goes on; pop-serve does not die of SIGPIPE when
# it writes user\0pass\0stamp\0 into the pipe nobody reads any more.
# strace delays pop-serve's own write(2)s (not its child's) so the child
# always wins the race.
# Also under strace: a directory fsync(2) failing at QUIT is no +OK (the
# deletions are not known to be durable; after a crash they could return).
import os, shutil, socket, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not shutil.which("strace"):
    print("1..0 # SKIP strace not installed")
    sys.exit(0)
env = pmtest.Env()


def session(checkpw):
    a, b = socket.socketpair()
    e = dict(os.environ, PIPEMAIL_LOGIN_DELAY_MS="1", TCPREMOTEIP="127.0.0.1")
    p = subprocess.Popen(["strace", "-o", "/dev/null", "-e", "trace=write", "-e", "inject=write:delay_enter=300000",
                          pmtest.bin("pop-serve"), "-P", "-t", "20", "-k", checkpw, "true"],
                         stdin=b, stdout=b, stderr=subprocess.DEVNULL, env=e)
    b.close()
    a.settimeout(15)
    f = a.makefile("rb")
    out = []
    try:
        out.append(f.readline())
        a.sendall(b"USER u@example.test\r\nPASS secret\r\n")
        out.append(f.readline())
        out.append(f.readline())
        a.sendall(b"QUIT\r\n")
        out.append(f.readline())
    except OSError as ex:
        out.append(repr(ex).encode())
    a.close()
    try:
        rc = p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    return out, rc


out, rc = session("/bin/false")
t.ok(len(out) > 2 and out[2].startswith(b"-ERR [AUTH]"), "checkpassword exits 1 unread: -ERR [AUTH]", out)
t.ok(len(out) > 3 and out[3].startswith(b"+OK"), "the session goes on: QUIT +OK", out)
t.eq(rc, 0, "pop-serve exits 0, not killed by SIGPIPE")

out, rc = session(env.path("no-such-checkpassword"))
t.ok(len(out) > 2 and out[2].startswith(b"-ERR [SYS/TEMP]"), "checkpassword cannot be run: -ERR [SYS/TEMP]", out)
t.ok(len(out) > 3 and out[3].startswith(b"+OK"), "the session goes on: QUIT +OK", out)
t.eq(rc, 0, "pop-serve exits 0, not killed by SIGPIPE")
# QUIT with the directory sync failing
md = env.add_user("u@example.test", "pw")
env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md], input=b"Subject: m\n\nbody\n",
        env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": ""})
a, b = socket.socketpair()
p = env.start(["strace", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:error=EIO",
               pmtest.bin("pop-serve"), "-P", "-t", "20"], stdin=b, stdout=b, stderr=subprocess.DEVNULL,
              env={"TCPREMOTEIP": "127.0.0.1"})
b.close()
a.settimeout(15)
f = a.makefile("rb")
f.readline()
a.sendall(b"USER u@example.test\r\nPASS pw\r\nDELE 1\r\nQUIT\r\n")
ans = [f.readline() for _ in range(4)]
a.close()
p.wait(20)
t.ok(ans[2].startswith(b"+OK"), "DELE 1", ans)
t.ok(ans[3].startswith(b"-ERR [SYS/TEMP]"), "QUIT whose directory fsync fails: -ERR [SYS/TEMP], not +OK", ans)
t.eq(p.returncode, 111, "and pop-serve exits 111, a local failure")
env.close()
t.done()
