#!/usr/bin/python3
# queue-run (root) works in the queue's directories as it opened them at
# its start (queue_pin: openat, renameat, unlinkat through the held
# descriptors). Here the queue's owner swaps state/, tmp/ and pool/ for
# links to a directory only root may write WHILE queue-run delivers (from
# a user's delivery program, which runs as that user): every file root
# then writes (state saved through tmp/, the message copied to tmp/ for a
# program when its envelope follows it, the delivery file's progress
# state/ID.qmail, the finished file moved to pool/, a bounce and a forward
# queued) lands in the directories opened at the start, none through the
# links. Then queue-run is killed in the middle of a delivery: the
# delivery child leaves its results in state/ID.done, through the held
# state/, not the link; a queue-run started on the swapped queue refuses
# it (111); once the admin puts the directories back, the results left
# are applied and nothing is delivered twice. Last, a hard link planted
# at state/ID.qmail to a file elsewhere is never written by root.
import os, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, MAILUID, MAILGID

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root (a queue owned by another user)")
env = pmtest.Env()
u = env.add_user("u@example.test", "pw")
v = env.add_user("v@example.test", "pw")
w = env.add_user("w@example.test", "pw")
q = pmtest.queue_of_mailuser(env)
root_only = env.path("root-only")
os.mkdir(root_only, 0o700)
SWAPPED = ("state", "tmp", "pool")


def script(name, text):
    p = env.path(name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(p, 0o755)
    return p


def swapped():
    return all(os.path.islink(os.path.join(q, d)) for d in SWAPPED)


def put_back():
    for d in SWAPPED:
        if os.path.islink(os.path.join(q, d)):
            os.unlink(os.path.join(q, d))
            os.rename(os.path.join(q, d + ".real"), os.path.join(q, d))


def real(d):
    return os.path.join(q, d + ".real") if os.path.islink(os.path.join(q, d)) else os.path.join(q, d)


def nothing_outside(what):
    t.eq(os.listdir(root_only), [], "nothing written through the links: " + what)


# u's delivery program (run as the queue's owner, nobody) swaps the
# directories, then reads its whole stdin: a copy in tmp/, since the
# message's envelope (80 recipients) follows it in the queue file
swap = script("swap", "cd %s || exit 111\n"
              "for d in %s; do [ -L $d ] || { mv $d $d.real && ln -s %s $d; } || exit 111; done\n"
              "wc -c > %s/u-stdin-bytes\n" % (q, " ".join(SWAPPED), root_only, env.dir))
os.chmod(env.dir, 0o777)   # the programs, as nobody, leave notes here
pmtest.dotqmail(u, "|%s\n./\n&v@example.test\n" % swap)
qr_log = env.path("qr.log")
qr = env.start([pmtest.bin("queue-run")], stderr=open(qr_log, "ab"))
log = pmtest.log_reader(qr_log)
body = b"Subject: swap\n\n" + b"line of the message body\n" * 40
unknown = ["nobody-here-%03d-padding-padding-padding-padding@example.test" % i for i in range(80)]
rc, err = pmtest.queue_add_owner(env, "v@example.test", ["u@example.test"] + unknown, body)
t.eq(rc, 0, "queued as the queue's owner (%s)" % err)
t.ok(wait_for(lambda: pmtest.subject_copies(u, b"swap") == 1 and pmtest.subject_copies(v, b"swap") == 1 and
              len(pmtest.maildir_files(v)) == 2 and not os.listdir(os.path.join(q, "mess")), 40),
     "delivered to u, forwarded to v, bounced to v, the queue emptied", log())
t.ok(swapped(), "the directories were swapped during the delivery")
t.eq(open(env.path("u-stdin-bytes")).read().strip(), str(len(body)), "the program read the whole message (a copy)")
nothing_outside("a delivery, a forward and a bounce")
t.ok(len(os.listdir(real("pool"))) >= 1, "finished files went to the pool opened at the start")

# a second message after the swap: state/ and tmp/ are links from the start
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["u@example.test"], b"Subject: after\n\nbody\n")
t.eq(rc, 0, "queued after the swap (%s)" % err)
t.ok(wait_for(lambda: pmtest.subject_copies(u, b"after") == 1 and pmtest.subject_copies(v, b"after") == 1 and
              not os.listdir(os.path.join(q, "mess")), 30), "delivered and forwarded", log())
nothing_outside("a message queued after the swap")

# queue-run killed while w's program runs: the child leaves its result
# in state/ID.done, through the state/ it holds
go = env.path("w-go")
wprog = script("wprog", "echo run >> %s/w-runs\n"
               "i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"
               "cat > /dev/null\n" % (env.dir, go))
pmtest.dotqmail(w, "|%s\n" % wprog)
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["w@example.test"], b"Subject: killed\n\nbody\n")
t.eq(rc, 0, "queued for w (%s)" % err)
t.ok(wait_for(lambda: os.path.exists(env.path("w-runs")), 30), "w's program runs", log())
os.kill(qr.pid, signal.SIGKILL)
qr.wait(10)
open(go, "w").close()
t.ok(wait_for(lambda: [f for f in os.listdir(real("state")) if f.endswith(".done")], 30),
     "the delivery child left its result in the held state/", repr(os.listdir(real("state"))))
nothing_outside("the results of a killed queue-run's delivery")
r = subprocess.run([pmtest.bin("queue-run")], env=env.env, capture_output=True, timeout=30)
t.eq(r.returncode, 111, "queue-run refuses a queue whose directories are links (%s)" % r.stderr.decode().strip())
nothing_outside("a queue-run that refused")
put_back()
qr = env.start([pmtest.bin("queue-run")], stderr=open(qr_log, "ab"))
t.ok(wait_for(lambda: not os.listdir(os.path.join(q, "mess")) and
              not [f for f in os.listdir(os.path.join(q, "state"))], 30), "the results were applied, the queue emptied",
     log())
t.eq(open(env.path("w-runs")).read().count("run"), 1, "w's program ran once")
nothing_outside("the end")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")

# a hard link the owner puts at state/ID.qmail (the delivery file's
# progress, appended to by root) to a file elsewhere: a kernel without
# fs.protected_hardlinks lets the owner link root's own files (made here
# by the test, as root). Root must not append to it.
x = env.add_user("x@example.test", "pw")
xgo = env.path("x-go")
# progress is saved (appended to state/ID.qmail) when a later line fails
pmtest.dotqmail(x, "|echo run >> %s/x-runs\n./\n|test -e %s || exit 111\n" % (env.dir, xgo))
before = set(os.listdir(os.path.join(q, "mess")))
rc, err = pmtest.queue_add_owner(env, "a@b.test", ["x@example.test"], b"Subject: hardlink\n\nbody\n")
t.eq(rc, 0, "queued for x (%s)" % err)
mid = (set(os.listdir(os.path.join(q, "mess"))) - before).pop()
elsewhere = env.path("root-files")
os.mkdir(elsewhere, 0o700)
target = os.path.join(elsewhere, "target")
with open(target, "w") as f:
    f.write("root's own file\n")
os.chmod(target, 0o600)
os.link(target, os.path.join(q, "state", mid + ".qmail"))
qr = env.start([pmtest.bin("queue-run")], stderr=open(qr_log, "ab"))
t.ok(wait_for(lambda: "rcpt=x@example.test channel=local status=temp" in log(), 30), "x's delivery put off", log())
t.eq(open(target).read(), "root's own file\n", "root appended nothing to a file hard-linked into state/")
open(xgo, "w").close()
qr.send_signal(signal.SIGALRM)
t.ok(wait_for(lambda: pmtest.subject_copies(x, b"hardlink") >= 1 and not os.listdir(os.path.join(q, "mess")), 30),
     "then delivered", log())
t.eq(open(target).read(), "root's own file\n", "the file is still untouched")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
t.done()
