#!/usr/bin/python3
# When a persistent "smtp-send -B" worker fails as a whole (a broken
# routes file, an agent that cannot start), each recipient's status must
# carry smtp-send's own one-line reason, as a "smtp-send" run of its own
# (-S) does: in queue-list's "last:" text, and in the DSN if it bounces;
# not just "smtp-send -B ended without a result". Its stderr still
# reaches queue-run's log.
import os, re, stat, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
routes = os.path.join(env.conf, "routes")
with open(routes, "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\nthis is not a route\n" % pmtest.free_port())


def ql():
    return env.run(["queue-list"], check=False).stdout.decode()


def run_qr(logname, *args, env_=None):
    return env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"] + list(args), env=env_,
                     stderr=open(env.path(logname), "wb"))


t.eq(queue_add(env, "sender@example.test", ["a@remote.test", "b@remote.test"], b"Subject: x\n\nbody\n"), 0, "queued")
qr = run_qr("qr1.log")
t.ok(wait_for(lambda: "attempts 1" in ql(), 15), "tried", ql())
out = ql()
t.ok(re.search(r"pending <a@remote.test> attempts \d+ next \S+ last: 4\.\d\.\d .*unable to parse .*routes: line 2", out),
     "the routes file's error is the recipient's status", out)
t.ok("ended without a result" not in out, "not the bare 'ended without a result'", out)
qr.terminate()
qr.wait(10)
log = open(env.path("qr1.log")).read()
t.ok("smtp-send: fatal: unable to parse" in log, "smtp-send's own line still in queue-run's log", log)

# a lifetime of 0: the next failure bounces, with the reason in the report
qr = run_qr("qr2.log", "-L", "0")
rep = wait_for(lambda: maildir_files(snd), 15)
body = open(rep[0], "rb").read().decode(errors="replace") if rep else ""
t.ok(re.search(r"Diagnostic-Code: .*unable to parse .*routes: line 2", body), "the DSN tells why", body[:3000])
t.ok(wait_for(lambda: not queue_files(env), 10), "bounced and done")
qr.terminate()
qr.wait(10)

# smtp-send -B alone: a message file it cannot read says why
r = env.run(["smtp-send", "-B", "-R", "-h", "me.test"], check=False,
            input=b"/nonexistent/q:0:5 example.test <> a@example.test\n%s:0:999999 example.test <> b@example.test\n"
            % routes.encode())
t.eq(r.stdout.decode(), "temp a@example.test 4.3.0 - unable to read the message file /nonexistent/q: No such file or directory\n.\n"
     "temp b@example.test 4.3.0 - unable to read the message file %s: not a file of that size\n.\n" % routes,
     "smtp-send -B: an unreadable message file's reason in the result")

# an smtp-send that cannot even start
os.unlink(routes)
fake = env.path("fake-smtp-send")
with open(fake, "w") as f:
    f.write("#!/bin/sh\necho 'smtp-send: event=start' >&2\necho 'smtp-send: fatal: unable to find this host'\"'\"'s name: broken' >&2\nexit 111\n")
os.chmod(fake, 0o755)
t.eq(queue_add(env, "sender@example.test", ["c@remote.test"], b"Subject: y\n\nbody\n"), 0, "queued")
e = dict(env.env)
e["PIPEMAIL_SMTPSEND"] = fake
qr = run_qr("qr3.log", env_=e)
t.ok(wait_for(lambda: "attempts 1" in ql(), 15), "tried", ql())
out = ql()
t.ok(re.search(r"pending <c@remote.test> .*last: 4\.\d\.\d .*unable to find this host's name: broken", out),
     "the dead worker's last word is the status", out)
qr.terminate()
qr.wait(10)
t.done()
