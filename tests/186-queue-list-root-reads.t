#!/usr/bin/python3
# queue-list run by root to list the queue (no action) read the queue's
# files by their paths: a state/ the queue's owner swapped for a link to a
# directory only root may read had root read a file there as the state of
# a queued message and print it (its reply text) to whoever ran the
# listing. Root's listing now holds the queue's directories open first
# (queue_pin), as its actions do, and reads only through them: a link in
# their place is refused (111), nothing read through it. A queue not
# written to yet (no mess/) still lists as empty.
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_files

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
q = pmtest.queue_of_mailuser(env, subdirs=())


def listing():
    r = subprocess.run([pmtest.bin("queue-list")], env=env.env, capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace").strip()


rc, out, err = listing()
t.eq((rc, out.splitlines()[-1:]), (0, ["0 messages, 0 pending recipients"]), "no mess/ yet: an empty queue (%s)" % err)

q = pmtest.queue_of_mailuser(env)
pmtest.route_nowhere(env)
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["far@remote.test"], b"Subject: listed\n\nbody\n")
t.eq(rc, 0, "queued as the queue's owner (%s)" % err)
mid = queue_files(env)[0]
rc, out, err = listing()
t.ok(rc == 0 and mid in out and "<far@remote.test>" in out, "root lists the queue (%s)" % err, out)

root_only = env.path("root-only")
os.mkdir(root_only, 0o700)
with open(os.path.join(root_only, mid), "w") as f:
    f.write("PMS1 -\np 1 0 0 4.0.0 - ROOT-ONLY-SECRET\n")
os.chmod(os.path.join(root_only, mid), 0o600)
os.rename(os.path.join(q, "state"), os.path.join(q, "state.real"))
os.symlink(root_only, os.path.join(q, "state"))
rc, out, err = listing()
t.ok("ROOT-ONLY-SECRET" not in out, "state/ a link: nothing read through it (exit %d, %s)" % (rc, err), out)
t.eq(rc, 111, "state/ a link: the listing refused")
os.unlink(os.path.join(q, "state"))
os.rename(os.path.join(q, "state.real"), os.path.join(q, "state"))

# mess/ a link to a directory only root may read, holding a queue file
os.unlink(os.path.join(root_only, mid))
shutil.copy(os.path.join(q, "mess", mid), os.path.join(root_only, mid))
os.chmod(os.path.join(root_only, mid), 0o600)
os.rename(os.path.join(q, "mess"), os.path.join(q, "mess.real"))
os.symlink(root_only, os.path.join(q, "mess"))
rc, out, err = listing()
t.ok(mid not in out, "mess/ a link: nothing read through it (exit %d, %s)" % (rc, err), out)
t.eq(rc, 111, "mess/ a link: the listing refused")
t.done()
