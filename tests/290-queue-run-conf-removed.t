#!/usr/bin/python3
# A numeric control file removed (or emptied) before a SIGHUP gives its
# default back, as at a start without it. Before, the reload left the
# value last read in force: an admin who removed concurrencylocal or
# queuelifetime to get the default kept the old one, and event=reload
# showed it with no word why. An option still overrides either way.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, log_event

t = pmtest.TAP()
env = pmtest.Env()


def log():
    return open(env.path("qr.log"), "rb").read().decode(errors="replace")


for name, v in (("concurrencylocal", "3"), ("concurrencyremote", "4"), ("queuelifetime", "5000")):
    with open(os.path.join(env.conf, name), "w") as f:
        f.write(v + "\n")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-r", "6"], stderr=open(env.path("qr.log"), "wb"))
t.ok(wait_for(lambda: log_event(log(), "start"), 10), "started")
st = (log_event(log(), "start") or [{}])[0]
t.eq((st.get("local"), st.get("remote"), st.get("lifetime")), ("3", "6", "5000"), "the files read, the option over its file")

os.unlink(os.path.join(env.conf, "concurrencylocal"))
os.unlink(os.path.join(env.conf, "concurrencyremote"))
open(os.path.join(env.conf, "queuelifetime"), "w").close()   # empty: as absent
qr.send_signal(1)
t.ok(wait_for(lambda: log_event(log(), "reload"), 10), "SIGHUP: reloaded")
rl = (log_event(log(), "reload") or [{}])[0]
t.eq((rl.get("local"), rl.get("remote"), rl.get("lifetime")), ("20", "6", "432000"),
     "removed or emptied: the defaults again; the option still holds")
t.ok("warning" not in log(), "no warning for a file absent", log())
qr.terminate()
t.eq(qr.wait(20), 0, "queue-run stops")
t.done()
