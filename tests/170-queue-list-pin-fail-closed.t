#!/usr/bin/python3
# queue-list, run by root on a queue owned by smtp-recv's user, holds the
# queue's directories open before it changes anything offline (queue_pin),
# so that a directory swapped for a link takes none of root's writes. A
# queue directory the owner removed must not turn that off: with new/
# gone and state/ and tmp/ swapped for links, nothing is written through
# them (queue-list refuses, exit 111) and the message's state is untouched.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_files

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
q = pmtest.queue_of_mailuser(env)
root_only = env.path("root-only")
os.mkdir(root_only, 0o700)

rc, err = pmtest.queue_add_owner(env, "a@b.test", ["far@remote.test"], b"Subject: offline\n\nbody\n")
t.eq(rc, 0, "queued as the queue's owner (%s)" % err)
ids = queue_files(env)
t.eq(len(ids), 1, "one message queued")

# what the owner may do: remove a directory, swap others for links
os.rename(os.path.join(q, "new"), os.path.join(q, "new.gone"))
for d in ("state", "tmp"):
    os.rename(os.path.join(q, d), os.path.join(q, d + ".real"))
    os.symlink(root_only, os.path.join(q, d))
res = subprocess.run([pmtest.bin("queue-list"), "bounce"] + ids, env=env.env, capture_output=True, timeout=30)
t.eq(os.listdir(root_only), [], "nothing written through the links with new/ gone (exit %d, %s)"
     % (res.returncode, res.stderr.decode(errors="replace").strip()))
t.eq(res.returncode, 111, "queue-list refuses: a queue directory it cannot hold open")
t.done()
