#!/usr/bin/python3
# What queue-list reads does not grow with the size of the mail queued:
# it read each message whole to check its CRC, so a listing of 2,000
# messages of 5 MB read 10 GB (Postfix's mailq reads the envelope
# records only). Two messages of 8 MB: the listing, the count and a
# retry each read well under one of them. Counted in bytes read
# (rchar of /proc/self/io: a child's reads are added to its parent's
# when it is reaped), never in time. tests/bench/queue-list-io measures.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, queue_files

t = pmtest.TAP()
if not os.path.exists("/proc/self/io"):
    t.skip_all("no /proc/self/io")
env = pmtest.Env()
MB = 1 << 20
body = b"Subject: big\n\n" + (b"y" * 1023 + b"\n") * (8 * 1024)
for i in range(2):
    t.eq(queue_add(env, "s%d@example.org" % i, ["r%d@remote.test" % i], body), 0, "queued 8 MB")
total = sum(os.path.getsize(os.path.join(env.queue, "mess", n)) for n in queue_files(env))
t.ok(total > 16 * MB, "the queue holds over 16 MB")


def rchar():
    with open("/proc/self/io") as f:
        return dict(l.split(":") for l in f.read().splitlines())


def reads(*args):
    a = int(rchar()["rchar"])
    r = subprocess.run([pmtest.bin("queue-list")] + list(args), env=env.env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    b = int(rchar()["rchar"])
    return r.returncode, b - a, r.stdout.decode()


rc, n, out = reads()
t.ok(rc == 0 and "2 messages, 2 pending" in out, "listed", out)
t.ok(n < MB, "the listing read %d bytes, under 1 MB" % n)
rc, n, out = reads("-c")
t.ok(rc == 0 and out == "2 messages, 2 pending recipients\n", "counted", out)
t.ok(n < MB, "the count read %d bytes, under 1 MB" % n)
rc, n, out = reads("retry", queue_files(env)[0])
t.eq(rc, 0, "retried")
t.ok(n < MB, "the retry read %d bytes, under 1 MB" % n)
t.done()
