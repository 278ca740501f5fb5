#!/usr/bin/python3
"""smtp-send -B reads the routes file once for a run of jobs to one
domain (a stat(2) a job tells it is unchanged), and still follows every
change between two jobs:

- a new file renamed into place (another inode);
- the same file rewritten in place with the same size (mtime/ctime);
- a file written a moment ago is read at every job, however its times
  compare (they tick by a jiffy: two writes may share them);
- jobs for two domains in turn each get their own route;
- a file removed: no route (the job is then the domain's MX lookup;
  here a domain literal's route, so no DNS is asked)."""
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
a, b = SMTPPeer({}), SMTPPeer({})
msg = env.path("m")
with open(msg, "wb") as f:
    f.write(b"Subject: x\n\nbody\n")
routes = os.path.join(env.conf, "routes")


def line(port, dom="r.test", width=0):
    s = "%s:[127.0.0.1]:%d" % (dom, port)
    return (s + " " * max(0, width - len(s))).encode() + b"\n"


def put(data, rename=True):
    if rename:
        with open(routes + ".new", "wb") as f:
            f.write(data)
        os.rename(routes + ".new", routes)
    else:
        with open(routes, "r+b") as f:
            f.write(data)


def age():
    """a file too old to be racy: past smtp-send's window"""
    time.sleep(3.2)


# -p: the port of a domain without a route, where nothing listens
p = subprocess.Popen([pmtest.bin("smtp-send"), "-B", "-T", "no", "-p", str(pmtest.free_port())], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, env=env.env)


def job(dom="r.test"):
    p.stdin.write(("%s %s a@b.test x@%s\n" % (msg, dom, dom)).encode())
    p.stdin.flush()
    out = []
    while True:
        l = p.stdout.readline()
        if not l or l == b".\n":
            return out
        out.append(l.decode().split(" ", 4))


def got():
    return (sum(len(s["data"]) for s in a.sessions), sum(len(s["data"]) for s in b.sessions))


w = 40
put(line(a.port, width=w) + line(b.port, "s.test", w))
age()
job(); job()
t.eq(got(), (2, 0), "an old routes file: both jobs by its route")
put(line(b.port, width=w) + line(b.port, "s.test", w))
out = job()
t.eq((got(), out[0][0]), ((2, 1), "ok"), "a new file renamed into place: the next job follows it")
age()
job()
put(line(a.port, width=w) + line(b.port, "s.test", w), rename=False)
job()
t.eq(got(), (3, 2), "rewritten in place, same size: the next job follows it")
job(); job()
t.eq(got(), (5, 2), "... and the ones after")
age()
job("s.test"); job("r.test"); job("s.test")
t.eq(got(), (6, 4), "two domains in turn: each its own route")
# a fresh file: read at each job, the new contents seen at once
for k in range(4):
    put((line(a.port, width=w) if k % 2 else line(b.port, width=w)) + line(b.port, "s.test", w), rename=False)
    job()
t.eq(got(), (8, 6), "a file rewritten between each of four quick jobs: each job its own route")
os.unlink(routes)
out = job("[127.0.0.1]")
t.ok(out and out[0][0] == "temp" and got() == (8, 6), "the file removed: no route any more", out)
p.stdin.close()
t.eq(p.wait(timeout=30), 111, "the batch ends (one temporary job: exit 111)")
t.done()
