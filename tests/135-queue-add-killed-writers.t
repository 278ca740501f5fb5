#!/usr/bin/python3
# queue-add under fire (THREATS I2): many writers at once, most killed
# (SIGKILL) at random moments, while queue-run delivers. Every message
# delivered is whole; every writer that exited 0 is delivered exactly
# once; what killed writers leave in mess/ is theirs alone (no notice:
# the notice comes last, tests 131 and 134).
import os, random, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for

t = pmtest.TAP()
env = pmtest.Env()
box = env.add_user("u@example.test", "pw")
qlog = open(env.path("queue-run.log"), "wb")
env.start([pmtest.bin("queue-run")], stderr=qlog)
N = 60 if pmtest.SANITIZED else 150
rnd = random.Random(int(os.environ.get("PIPEMAIL_SEED", "135")))
ENVELOPE = b"Fs@x.test\0Tu@example.test\0\0"


def message(i):
    body = b"".join(b"line %d of %d\n" % (j, i) for j in range(rnd.randint(1, 3000)))
    return b"Subject: w%d\nX-Lines: %d\n\n" % (i, body.count(b"\n")) + body


procs, sent = [], {}
for i in range(N):
    r_env, w_env = os.pipe()
    os.write(w_env, ENVELOPE)
    os.close(w_env)
    p = subprocess.Popen([pmtest.bin("queue-add")], stdin=subprocess.PIPE, stdout=r_env,
                         stderr=subprocess.DEVNULL, env=env.env)
    os.close(r_env)
    sent[i] = message(i)
    try:
        p.stdin.write(sent[i])
        p.stdin.close()
    except BrokenPipeError:
        pass
    procs.append(p)
    if rnd.random() < 0.6:
        time.sleep(rnd.random() * 0.004)
        p.kill()
for p in procs:
    p.wait(60)
ok = {i for i, p in enumerate(procs) if p.returncode == 0}
t.eq(sorted({p.returncode for p in procs} - {0, -9}), [], "every writer exited 0 or was killed")
t.ok(len(ok) > 0 and len(ok) < N, "some writers finished, some were killed (%d of %d finished)" % (len(ok), N))


def delivered():
    got = {}
    for f in maildir_files(box):
        data = open(f, "rb").read()
        m = re.search(rb"^Subject: w(\d+)$", data, re.M)
        if m:
            got.setdefault(int(m.group(1)), []).append(data)
    return got


got = wait_for(lambda: (lambda d: d if ok <= set(d) else None)(delivered()), 60) or delivered()
t.eq(sorted(ok - set(got)), [], "every writer that exited 0 was delivered")
# a last message through the same queue-run: everything before it was seen
t.eq(pmtest.queue_add(env, "s@x.test", ["u@example.test"], b"Subject: last\n\nx\n"), 0, "a last message")
t.ok(wait_for(lambda: pmtest.subject_copies(box, b"last") == 1, 60), "delivered")
got = delivered()
t.eq(sorted(i for i, copies in got.items() if len(copies) != 1), [], "no message delivered twice")
t.eq(sorted(i for i, copies in got.items() if not copies[0].endswith(sent[i])), [], "every message delivered whole")
# (a writer killed between its notice and its exit is delivered, whole:
# the client was told 451 and sends it again, as with qmail-queue)
t.diag("killed after their notice, delivered: %d" % len(set(got) - ok))
left = []
for name in os.listdir(os.path.join(env.queue, "mess")):
    try:
        data = open(os.path.join(env.queue, "mess", name), "rb").read()
    except FileNotFoundError:
        continue   # finished by queue-run, which runs on, since the listing: not left
    m = re.search(rb"^Subject: w(\d+)$", data, re.M)
    left.append(int(m.group(1)) if m else -1)
t.eq(sorted(i for i in left if i in ok), [], "nothing of a finished writer left in mess/")
t.done()
