#!/usr/bin/python3
# queue-run (root) creating the queue's missing directories in a queue that
# belongs to smtp-recv's user makes them that user's, as it does the
# trigger FIFO: root's own mess/ or new/ there answered every message 451
# (queue-add, run as that user, could not write into them).
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files, MAILUID, MAILGID

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
q = pmtest.queue_of_mailuser(env, subdirs=())
qr = env.start([pmtest.bin("queue-run")], stderr=open(env.path("qr.log"), "wb"))
# its start line comes after queue_init made them and gave them away: a
# directory there before that may still be root's for a moment
log = pmtest.log_reader(env.path("qr.log"))
t.ok(wait_for(lambda: pmtest.log_event(log(), "start"), 15) and
     all(os.path.isdir(os.path.join(q, d)) for d in ("mess", "new", "state", "tmp", "pool")),
     "queue-run made the directories", log())
owners = dict((d, (os.stat(os.path.join(q, d)).st_uid, os.stat(os.path.join(q, d)).st_gid))
              for d in ("mess", "new", "state", "tmp", "pool"))
t.eq(owners, dict((d, (MAILUID, MAILGID)) for d in owners), "each belongs to the queue's owner")
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["u@example.test"], b"Subject: owner\n\nbody\n")
t.eq(rc, 0, "queue-add as the queue's owner queues (%s)" % err)
t.ok(wait_for(lambda: pmtest.subject_copies(u, b"owner") == 1 and not queue_files(env), 30), "delivered", log())
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.done()
