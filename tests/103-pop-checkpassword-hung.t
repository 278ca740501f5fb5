#!/usr/bin/python3
# pop-serve -w N -k waits for checkpassword at most N seconds: a hung one
# (a stuck LDAP/NSS lookup) has its process group killed, the client gets
# -ERR [SYS/TEMP] and the session ends, logged. The limit ends when the
# subprogram starts (pop-serve -m reports it; another subprogram closes
# $POPSERVE_READYFD), so a served session outlives it. Without -w nothing
# is timed and no pipe is passed (qmail-popup's behaviour, which a
# subprogram such as qmail-pop3d relies on).
import os, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

LIMIT = 3   # -t seconds: the password check's limit in these servers
t = pmtest.TAP()
env = pmtest.Env()
home = env.path("home")
msg = os.path.join(pmtest.mailbox(os.path.join(home, "Maildir")), "new", "1000000000.M1P1Q1.host,S=20")
with open(msg, "wb") as f:
    f.write(b"Subject: cp\n\nhello\n")
pids = env.path("pids")


def script(name, text):
    p = env.path(name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, 0o755)
    return p


# hangs after reading fd 3, with a child of its own, as a stuck lookup would
hung = script("hung", """#!/bin/sh
cat <&3 >/dev/null
sleep 300 &
echo $$ $! > %s
wait
""" % pids)
# accepts u@example.test / right pw and runs the subprogram in home
good = script("good", """#!/bin/sh
pw=$(tr '\\0' '\\n' <&3 | sed -n 2p)
[ "$pw" = "right pw" ] || exit 1
cd %s && USER=u@example.test exec "$@"
""" % home)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def session(port):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(LIMIT * 5)
    return s, s.makefile("rb")


def login(s, fh, password, none):
    """USER and PASS: the answer to USER, then the one to PASS (or none, when
    the connection times out first)"""
    s.sendall(b"USER u@example.test\r\nPASS " + password + b"\r\n")
    user = fh.readline()
    try:
        return user, fh.readline()
    except OSError:
        return user, none


FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
mdir = [pmtest.bin("pop-serve"), "-m", "Maildir"]

port = env.server(["pop-serve", "-P", "-t", str(LIMIT), "-w", str(LIMIT), "-k", hung] + mdir, env=FAST)
s, fh = session(port)
fh.readline()
user, got = login(s, fh, b"right pw", b"(no answer within %d s)" % (LIMIT * 5))
t.ok(user.startswith(b"+OK"), "USER accepted")
t.ok(got.startswith(b"-ERR [SYS/TEMP]"), "a hung checkpassword: -ERR [SYS/TEMP] after the limit", got)
try:
    rest = fh.read() if got.startswith(b"-ERR") else b"(still open)"
except OSError:
    rest = b"(still open)"
t.eq(rest, b"", "then the session ends")
s.close()
with open(pids) as f:
    cp, kid = map(int, f.read().split())
if not got.startswith(b"-ERR"):
    for p in (kid, cp):   # the unfixed server left them: do not leave them behind
        os.kill(p, 9)
t.ok(pmtest.wait_for(lambda: not alive(cp) and not alive(kid), timeout=10),
     "checkpassword and its child are killed (the process group)")
time.sleep(0.2)
log = env.log(port)
t.ok(any(d.get("result") == "timeout" for d in pmtest.log_event(log, "login")), "logged: event=login result=timeout", log)
t.ok(any(d.get("result") == "checkpassword-timeout" for d in pmtest.log_event(log, "end")),
     "logged: event=end result=checkpassword-timeout", log)
t.ok("right pw" not in log, "no password in the log")

# the limit covers the check only: pop-serve -m reports its start, and the
# session it serves may stay idle past the limit
port = env.server(["pop-serve", "-P", "-t", str(LIMIT), "-w", str(LIMIT), "-k", good] + mdir, env=FAST)
s, fh = session(port)
fh.readline()
s.sendall(b"USER u@example.test\r\nPASS wrong\r\n")
fh.readline()
t.ok(fh.readline().startswith(b"-ERR [AUTH]"), "checkpassword exit 1: -ERR [AUTH], as before")
s.sendall(b"USER u@example.test\r\nPASS right pw\r\n")
fh.readline()
t.ok(fh.readline().startswith(b"+OK 1 messages"), "a good password: the subprogram serves the Maildir")
time.sleep(LIMIT + 1)
s.sendall(b"STAT\r\n")
t.eq(fh.readline(), b"+OK 1 22\r\n", "idle past the limit: the session is still served")
s.sendall(b"QUIT\r\n")
t.ok(fh.readline().startswith(b"+OK"), "QUIT")
s.close()

# another subprogram ends the limit by closing $POPSERVE_READYFD
other = script("other", """#!/bin/sh
eval "exec $POPSERVE_READYFD>&-"
sleep %d
exec "$@"
""" % (LIMIT + 1))
port = env.server(["pop-serve", "-P", "-t", str(LIMIT), "-w", str(LIMIT), "-k", good, other] + mdir, env=FAST)
s, fh = session(port)
fh.readline()
s.sendall(b"USER u@example.test\r\nPASS right pw\r\n")
fh.readline()
t.ok(fh.readline().startswith(b"+OK 1 messages"),
     "a subprogram that closes $POPSERVE_READYFD may take longer than the limit")
s.sendall(b"QUIT\r\n")
fh.readline()
s.close()

# a checkpassword that refuses the password but leaves a process behind
# holding the ready pipe (a daemon it started, a PAM helper): its exit
# is the answer, not the limit (here 60 s, past the client's patience)
bgpid = env.path("bgpid")
leaves = script("leaves", """#!/bin/sh
sleep 300 &
echo $! > %s
exit 1
""" % bgpid)
port = env.server(["pop-serve", "-P", "-t", "60", "-w", "60", "-k", leaves] + mdir, env=FAST)
s, fh = session(port)
s.settimeout(20)
fh.readline()
got = login(s, fh, b"wrong", b"(no answer within 20 s)")[1]
t.ok(got.startswith(b"-ERR [AUTH]"), "checkpassword exit 1 with a process left holding the pipe: -ERR [AUTH] at once", got)
s.close()
try:
    with open(bgpid) as f:
        os.kill(int(f.read()), 9)
except (OSError, ValueError):
    pass

# without -w: no limit and no pipe, as with qmail-popup: a subprogram that
# knows nothing of $POPSERVE_READYFD and starts slowly is served, past -t
seen = env.path("seen")
unaware = script("unaware", """#!/bin/sh
echo "${POPSERVE_READYFD-unset}" > %s
sleep %d
exec "$@"
""" % (seen, LIMIT + 1))
# (a stale POPSERVE_READYFD in pop-serve's own environment is not passed on:
# pop-serve -m would write its byte to whatever that descriptor is)
port = env.server(["pop-serve", "-P", "-t", str(LIMIT), "-k", good, unaware] + mdir,
                  env=dict(FAST, POPSERVE_READYFD="1"))
s, fh = session(port)
fh.readline()
got = login(s, fh, b"right pw", b"(no answer)")[1]
t.ok(got.startswith(b"+OK 1 messages"), "no -w: a subprogram that starts after -t seconds still serves the session", got)
s.sendall(b"QUIT\r\n")
fh.readline()
s.close()
with open(seen) as f:
    t.eq(f.read().strip(), "unset", "no -w: no $POPSERVE_READYFD passed to checkpassword and the subprogram")
import subprocess
r = subprocess.run([pmtest.bin("pop-serve"), "-w", "5", "-m", "Maildir"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
t.ok(r.returncode == 100 and b"usage" in r.stderr, "-w without -k: a usage error", r.stderr)

# by hand at a terminal, as admins try qmail-popup: the subprogram reads
# the terminal, so checkpassword must stay in the terminal's foreground
# process group (in a group of its own it is stopped by SIGTTIN)
import pty, select, tty
subpid = env.path("subpid")
reader = script("reader", """#!/bin/sh
eval "exec $POPSERVE_READYFD>&-"
echo $$ > %s
read x
echo "read:$x"
""" % subpid)
try:
    pid, fd = pty.fork()
except OSError as e:
    pid = None
    t.ok(1, "# skip no pseudo-terminal (%s)" % e)
if pid == 0:
    try:
        tty.setraw(0)
        os.environ.update(FAST)
        os.execv(pmtest.bin("pop-serve"), ["pop-serve", "-P", "-t", str(LIMIT), "-w", str(LIMIT), "-k", good, reader])
    finally:
        os._exit(111)
if pid:
    def upto(want, secs):
        out, end = b"", time.monotonic() + secs
        while want not in out and time.monotonic() < end:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out
    upto(b"ready", 10)
    os.write(fd, b"USER u@example.test\r\nPASS right pw\r\n")
    upto(b"+OK send PASS", 10)
    pmtest.wait_for(lambda: os.path.exists(subpid) and os.path.getsize(subpid) > 0, timeout=10)
    os.write(fd, b"typed\n")
    got = upto(b"read:typed", 10)
    t.ok(b"read:typed" in got, "at a terminal, the subprogram reads what is typed", got)
    try:
        with open(subpid) as f:
            os.kill(int(f.read()), 9)
    except (OSError, ValueError):
        pass
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
t.done()
