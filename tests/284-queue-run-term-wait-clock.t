#!/usr/bin/python3
# After SIGTERM, queue-run waits for the jobs in flight term_wait (-t)
# seconds and no longer, whatever the wall clock does: the wait is on the
# monotonic clock. Here the wall clock stands still (libfaketime, the
# monotonic clock left alone) while a local delivery runs: before, the
# deadline (wall clock now + wait) never came, and queue-run waited as
# long as the delivery did. The idle workers' WORKER_IDLE is on the same
# clock; a test of it would wait a minute, so it has none here.
import glob, os, signal, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files

t = pmtest.TAP()
if pmtest.SANITIZED:
    t.skip_all("libfaketime preloaded before the ASan runtime can hang it")
LIB = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
if not LIB:
    t.skip_all("no libfaketime")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
# the agent, out of libfaketime's reach (its sleep would stand still too),
# waits (bounded) for the go-ahead, then delivers nothing and fails for now
work, agent = env.path("work"), env.path("agent")
started, flag = os.path.join(work, "started"), os.path.join(work, "go")
for path, mode, text in ((work, 0o777, None), (agent, 0o755, "#!/bin/sh\n"
                         "unset LD_PRELOAD FAKETIME FAKETIME_DONT_FAKE_MONOTONIC\ncat >/dev/null\n"
                         "echo $$ > '%s'; i=0\n"
                         "while [ ! -e '%s' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
                         "exit 111\n" % (started, flag))):
    if text is None:
        os.mkdir(path)
    else:
        open(path, "w").write(text)
    os.chmod(path, mode)
t.ok(pmtest.queue_add(env, "sender@example.org", ["u@example.test"], b"Subject: x\n\nbody\n") == 0, "queued")
qenv = {"PIPEMAIL_DELIVER": agent, "LD_PRELOAD": LIB[0], "FAKETIME": "2020-01-01 00:00:00",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
qr = env.start([pmtest.bin("queue-run"), "-t", "1"], env=qenv, stderr=open(env.path("qr.log"), "wb"))
try:
    t.ok(wait_for(lambda: os.path.exists(started) and open(started).read().strip(), 20), "the delivery runs")
    pid = open(started).read().strip() if os.path.exists(started) else ""
    qr.send_signal(signal.SIGTERM)
    t.ok(wait_for(lambda: qr.poll() is not None, 30), "queue-run ends after SIGTERM and -t 1",
         open(env.path("qr.log")).read())
    t.ok(pid and os.path.exists("/proc/" + pid), "before the delivery it waited for did")
    t.eq(qr.poll(), 0, "exit 0")
finally:
    open(flag, "w").close()   # the agent ends; what it leaves is queue-run's next start's
    if qr.poll() is None:
        qr.kill()
        qr.wait()
t.ok(wait_for(lambda: not (pid and os.path.exists("/proc/" + pid)), 20), "the agent is gone")
t.ok(queue_files(env), "the message stays queued")
t.done()
