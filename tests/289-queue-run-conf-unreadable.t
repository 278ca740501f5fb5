#!/usr/bin/python3
# A control file that is there but cannot be read (EIO, a mode, here a
# directory in its place or a control byte: conf_line's EINVAL) is not
# taken as absent: queue-run logs one warning a load naming the file, and
# keeps the value in force (the default at start, the last one read at a
# SIGHUP). Before, the error was silent, and doublebounceto and me, read
# again at each use or load, fell back to postmaster@me and localhost: a
# double bounce went to an address the admin never gave.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files, log_event

t = pmtest.TAP()
env = pmtest.Env()
pm = env.add_user("pm@example.test", "pw")


def conf(name, data):
    p = os.path.join(env.conf, name)
    if os.path.isdir(p):
        os.rmdir(p)
    elif os.path.exists(p):
        os.unlink(p)
    if data is None:
        os.mkdir(p)   # read() fails: EISDIR
    else:
        with open(p, "wb") as f:
            f.write(data)


def log():
    return open(env.path("qr.log"), "rb").read().decode(errors="replace")


def warnings(text, name):
    return [l for l in text.splitlines()
            if "warning: unable to read " + os.path.join(env.conf, name) + ":" in l]


conf("concurrencylocal", b"3\n")
conf("queuelifetime", b"5000\n")
conf("concurrencyremote", b"7\x01\n")   # a control byte: unreadable at start
conf("doublebounceto", b"pm@example.test\n")
qr = env.start([pmtest.bin("queue-run"), "-b", "1"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: log_event(log(), "start"), 10), "started")
st = (log_event(log(), "start") or [{}])[0]
t.eq((st.get("local"), st.get("remote"), st.get("lifetime")), ("3", "20", "5000"),
     "at start: the files read, the default for the unreadable one")
t.eq(len(warnings(log(), "concurrencyremote")), 1, "one warning at start names the unreadable file")
t.eq(warnings(log(), "concurrencylocal") + warnings(log(), "doublebounceto"), [], "none for the good ones")

# every file goes bad; a reload keeps what was read before
conf("concurrencylocal", None)
conf("queuelifetime", b"9\x1b5\n")
conf("doublebounceto", None)
conf("me", b"other.example\x7f\n")
qr.send_signal(1)
t.ok(wait_for(lambda: log_event(log(), "reload"), 10), "SIGHUP: reloaded")
rl = (log_event(log(), "reload") or [{}])[0]
t.eq((rl.get("local"), rl.get("remote"), rl.get("lifetime")), ("3", "20", "5000"),
     "the values in force are kept, not the defaults")
text = log()
t.ok([len(warnings(text, n)) for n in ("concurrencylocal", "queuelifetime", "concurrencyremote", "doublebounceto", "me")]
     == [1, 1, 2, 1, 1], "one warning a load for each unreadable file", text)

# a failed bounce still goes to the doublebounceto read before, from the
# me read before (postmaster@localhost and MAILER-DAEMON@localhost before)
queue_add(env, "", ["nosuch@example.test"], b"Subject: a bounce\n\nx\n")
got = wait_for(lambda: maildir_files(pm), 15)
t.ok(len(got or []) == 1, "the double bounce reached the doublebounceto read before", log())
data = open(got[0], "rb").read() if got else b""
t.ok(b"MAILER-DAEMON@mx.example.test>" in data and b"Reporting-MTA: dns; mx.example.test" in data,
     "written as the me read before", data[:600])
t.ok(wait_for(lambda: not queue_files(env), 10), "queue empty")
t.eq(len(warnings(log(), "doublebounceto")), 1, "no more warnings at each report")

# fixed files are read again at the next reload
conf("concurrencylocal", b"4\n")
qr.send_signal(1)
t.ok(wait_for(lambda: len(log_event(log(), "reload")) == 2, 10), "reloaded again")
rl = (log_event(log(), "reload") + [{}, {}])[1]
t.eq(rl.get("local"), "4", "a file made readable again is read")
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
