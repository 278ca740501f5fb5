#!/usr/bin/python3
# The queue as INSTALL lays it out: owned by the user smtp-recv runs as
# (here nobody), queue-run as root. That user may rename anything in the
# queue, so root must never write through a queue directory on that
# user's word: one swapped for a link to a directory only root may write
# gets nothing. queue-run holds its directories open from the start, and
# queue-add, which it runs for forwards and bounces, runs as the queue's
# owner, as it does under smtp-recv. Ordinary mail, forwards and bounces
# still flow in such a queue.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files, MAILUID

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
q = pmtest.queue_of_mailuser(env)
root_only = env.path("root-only")
os.mkdir(root_only, 0o700)
# queue-add as queue-run runs it, telling who it runs as
ids = env.path("queue-add.ids")
wrap = env.path("queue-add-wrap")
with open(wrap, "w") as f:
    f.write("#!/bin/sh\nid -u >> %s\nexec %s\n" % (ids, pmtest.bin("queue-add")))
os.chmod(wrap, 0o755)
open(ids, "w").close()
os.chmod(ids, 0o666)
log = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], env=dict(env.env, PIPEMAIL_QUEUEADD=wrap), stderr=open(log, "wb"))


def mail_of(m, needle):
    return [f for f in pmtest.maildir_files(m) if needle in open(f, "rb").read()]


# ordinary mail, a forward and a bounce, in a queue root does not own
pmtest.dotqmail(u, "&v@example.test\n")
t.eq(queue_add(env, "v@example.test", ["v@example.test", "u@example.test", "nobody-here@example.test"],
               b"Subject: plain\n\nbody\n"), 0, "queued")
t.ok(wait_for(lambda: len(mail_of(v, b"Subject: plain")) == 3 and not queue_files(env), 30),
     "delivered, forwarded and bounced", pmtest.log_reader(log)())
t.eq(sorted(set(open(ids).read().split())), [str(MAILUID)], "queue-add ran as the queue's owner only")

# the owner swaps pool/ for a link: a finished message's file goes to
# the pool queue-run opened at its start, never through the link
os.rename(os.path.join(q, "pool"), os.path.join(q, "pool.real"))
os.symlink(root_only, os.path.join(q, "pool"))
t.eq(pmtest.queue_add_owner(env, "a@b.test", ["v@example.test"], b"Subject: pool\n\nbody\n")[0], 0,
     "queued after the pool swap")
t.ok(wait_for(lambda: mail_of(v, b"Subject: pool") and not queue_files(env), 30), "delivered",
     pmtest.log_reader(log)())
t.eq(os.listdir(root_only), [], "nothing moved through the pool link")
t.eq(len(os.listdir(os.path.join(q, "pool.real"))) >= 1, True, "the file went to the pool opened at the start")

# the owner swaps mess/ (from u's delivery file, which runs as nobody),
# then u forwards: queue-add, as the owner, may not write through it
pmtest.dotqmail(u, "|mv %s/mess %s/mess.real && ln -s %s %s/mess\n&v@example.test\n" % (q, q, root_only, q))
t.eq(queue_add(env, "a@b.test", ["u@example.test"], b"Subject: swap\n\nbody\n"), 0, "queued")
t.ok(wait_for(lambda: "queue-add failed" in pmtest.log_reader(log)(), 30), "the forward through the link failed",
     pmtest.log_reader(log)())
t.eq(os.listdir(root_only), [], "nothing created through the mess link")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")

# queue-list, root's, changing the queue offline: its state goes into
# the queue's state/, not through a link the owner put there
os.rename(os.path.join(q, "mess.real"), os.path.join(q, "mess.old"))
os.unlink(os.path.join(q, "mess"))
os.rename(os.path.join(q, "mess.old"), os.path.join(q, "mess"))
pmtest.route_nowhere(env)
t.eq(pmtest.queue_add_owner(env, "a@b.test", ["far@remote.test"], b"Subject: offline\n\nbody\n")[0], 0,
     "queued for a remote host")
new = [i for i in queue_files(env) if b"offline" in open(os.path.join(q, "mess", i), "rb").read()]
os.rename(os.path.join(q, "state"), os.path.join(q, "state.real"))
os.symlink(root_only, os.path.join(q, "state"))
r = subprocess.run([pmtest.bin("queue-list"), "bounce"] + new, env=env.env, capture_output=True)
t.eq(os.listdir(root_only), [], "queue-list bounce wrote nothing through the state link (exit %d, %s)"
     % (r.returncode, r.stderr.decode(errors="replace").strip()))
t.done()
