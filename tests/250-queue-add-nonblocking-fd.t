#!/usr/bin/python3
# queue-add given non-blocking descriptors, as an injector with its own
# event loop may hand over. The envelope (fd 1) not there yet: queue-add
# waits in poll(2) instead of spinning on EAGAIN at full CPU until the
# writer gets to it (lib/buf's reader with no time limit let the read
# block, which a non-blocking descriptor never does). The message (fd 0)
# not there yet: it waits too, instead of failing 54 because the writer
# was slower than the reader.
import fcntl, os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
trace = env.path("trace")
r, w = os.pipe()
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
p = env.start(["strace", "-qq", "-e", "trace=read", "-e", "signal=none", "-o", trace, pmtest.bin("queue-add")],
              stdin=subprocess.PIPE, stdout=r)
os.close(r)
p.stdin.write(b"Subject: nonblocking\n\nbody\n")
p.stdin.close()


def reads_of_fd1():
    try:
        return [l for l in open(trace).read().splitlines() if l.startswith("read(1,")]
    except OSError:
        return []


t.ok(pmtest.wait_for(lambda: reads_of_fd1(), 20), "queue-add reached the envelope")
time.sleep(0.5)   # the writer is slow; a spinning reader piles up EAGAINs meanwhile
os.write(w, b"Fa@example.org\0Tb@example.test\0\0")
os.close(w)
t.eq(p.wait(30), 0, "queued once the envelope came")
eagain = [l for l in reads_of_fd1() if "EAGAIN" in l]
t.ok(len(eagain) <= 1, "at most one read of fd 1 found it empty (%d did)" % len(eagain))
t.eq(len(os.listdir(os.path.join(env.queue, "new"))), 1, "one message queued")

# the message on a non-blocking fd 0, written a little later
mr, mw = os.pipe()
fcntl.fcntl(mr, fcntl.F_SETFL, fcntl.fcntl(mr, fcntl.F_GETFL) | os.O_NONBLOCK)
er, ew = os.pipe()
os.write(ew, b"Fa@example.org\0Tb@example.test\0\0")
os.close(ew)
p = env.start([pmtest.bin("queue-add")], stdin=mr, stdout=er, stderr=subprocess.PIPE)
os.close(mr)
os.close(er)
time.sleep(0.5)   # the writer is slow
try:
    os.write(mw, b"Subject: slow writer\n\nbody\n")
except BrokenPipeError:
    pass   # queue-add gave up already
os.close(mw)
t.eq((p.wait(30), p.stderr.read()), (0, b""), "a message on a non-blocking fd 0 is waited for, then queued")
t.eq(len(os.listdir(os.path.join(env.queue, "new"))), 2, "two messages queued")
t.done()
