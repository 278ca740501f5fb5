#!/usr/bin/python3
# deliver-maildir under concurrency and crashes: 200 simultaneous
# deliveries into one Maildir give 200 distinct, complete files; 100
# deliveries each SIGKILLed at a random moment leave only complete
# messages in new/ (and a killed delivery never exits 0).
import glob, os, random, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
TOP = b"Return-Path: <a@example.org>\nDelivered-To: b@example.test\n"
rnd = random.Random(20261129)


def message(i, size):
    head = b"Subject: message %d\r\nX-Size: %d\r\n\r\n" % (i, size)
    line = b"%d " % i + b"z" * 70 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def feed(p, m):
    """a delivery that died unread shows in its exit code, not as a crash here"""
    try:
        p.stdin.write(m)
        p.stdin.close()
    except BrokenPipeError:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass


def check_new(md, want):
    """every file in new/ equals the expected bytes of the message it claims to be"""
    bad, got = [], {}
    for n in os.listdir(md + "/new"):
        with open(os.path.join(md, "new", n), "rb") as f:
            data = f.read()
        try:
            i = int(data.split(b"\n")[2].split()[2])
        except (IndexError, ValueError):
            bad.append(n)
            continue
        if data != want.get(i):
            bad.append(n)
        got.setdefault(i, []).append(n)
    return bad, got


# --- 200 at once
N = 200 if not pmtest.SANITIZED else 100
md = pmtest.mailbox(env.path("conc"))
want, procs = {}, []
for i in range(N):
    m = message(i, rnd.randrange(200, 20000))
    want[i] = TOP + m.replace(b"\r\n", b"\n")
    p = subprocess.Popen(pmtest.deliver_argv(md), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=ENV)
    procs.append((p, m))
for p, m in procs:   # all started before any is fed
    feed(p, m)
rcs = [p.wait(60) for p, _ in procs]
t.eq(rcs.count(0), N, "%d concurrent deliveries exit 0" % N)
bad, got = check_new(md, want)
t.eq(len(os.listdir(md + "/new")), N, "%d files in new/" % N)
t.eq((bad, sorted(got) == list(range(N)), [i for i, v in got.items() if len(v) != 1]), ([], True, []),
     "each file complete, each message exactly once")
t.eq(os.listdir(md + "/tmp"), [], "tmp/ empty")

# --- the clock stopped (libfaketime): names stay unique through pid, counter and link
# (not under the sanitizers: libfaketime preloaded before the ASan runtime can hang it)
# libfaketime preloaded by hand: the faketime wrapper's own sem_open races
# when 50 start at once ("sem_open: File exists") and it exits unread
LIB = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
if LIB and not pmtest.SANITIZED:
    M = 50
    md = pmtest.mailbox(env.path("frozen"))
    fenv = dict(ENV, LD_PRELOAD=LIB[0], FAKETIME="2020-01-01 00:00:00")
    procs = [subprocess.Popen(pmtest.deliver_argv(md), stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=fenv) for _ in range(M)]
    for i, p in enumerate(procs):
        feed(p, message(i, 500))
    rcs = [p.wait(60) for p in procs]
    names = os.listdir(md + "/new")
    t.eq((rcs.count(0), len(names)), (M, M), "%d deliveries with the clock stopped: %d distinct files" % (M, M))
    secs = set(n.split(".")[0] for n in names)
    t.ok(len(secs) <= 2, "(the clock really was stopped: %d distinct seconds)" % len(secs), sorted(secs)[:5])

# --- SIGKILL at a random moment
K = 100 if not pmtest.SANITIZED else 50
md = pmtest.mailbox(env.path("crash"))
want, zero_but_missing, early = {}, [], 0
spool = tempfile.TemporaryDirectory(dir=env.dir)
for i in range(K):
    m = message(i, rnd.choice((2000, 60000, 600000, 2000000)))
    want[i] = TOP + m.replace(b"\r\n", b"\n")
    path = os.path.join(spool.name, "m")
    with open(path, "wb") as f:
        f.write(m)
    with open(path, "rb") as f:
        p = subprocess.Popen(pmtest.deliver_argv(md), stdin=f, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
    time.sleep(rnd.uniform(0, 0.006 if not pmtest.SANITIZED else 0.05))
    p.send_signal(signal.SIGKILL)
    rc = p.wait(30)
    if rc == 0:
        early += 1
        if i not in check_new(md, want)[1]:
            zero_but_missing.append(i)
bad, got = check_new(md, want)
t.diag("%d of %d finished before the kill, %d messages in new/, %d leftovers in tmp/"
       % (early, K, len(got), len(os.listdir(md + "/tmp"))))
t.eq(bad, [], "new/ holds only complete messages after %d SIGKILLs" % K)
t.eq([i for i, v in got.items() if len(v) != 1], [], "no message twice")
t.eq(zero_but_missing, [], "every delivery that exited 0 is in new/")
t.ok(0 < len(got) < K or early == len(got), "kills landed both before and after the commit", (early, len(got)))
t.done()
