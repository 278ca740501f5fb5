#!/usr/bin/python3
# A delivery file's lines already carried out are recorded as each one
# succeeds, synced, before the next starts: a crash part-way (queue-run
# and its workers killed while a later line runs) does not carry out the
# earlier lines again on the next run. They were recorded only when a
# later line failed temporarily, so after such a crash the program line
# ran again and the Maildir got a second copy (qmail does the same). The
# last line needs no record (the recipient's state has it), so a file of
# one line costs no sync. Seen with strace: the record's fdatasync comes
# before the next line's program starts.
import os, re, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files, dotqmail

t = pmtest.TAP()
traced = pmtest.strace_usable()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
demo = env.add_user("demo@example.test", "pw")
box = env.path("box")   # the programs (run as the user) write here
os.mkdir(box)
os.chmod(box, 0o777)
runs, reached, flag = (os.path.join(box, n) for n in ("runs", "reached", "flag"))
slog = env.path("strace")


def log():
    return open(env.path("qr.log"), "rb").read().decode(errors="replace")


def start():
    argv = [pmtest.bin("queue-run"), "-b", "1", "-m", "1"]
    if traced and not os.path.exists(slog):
        argv = ["strace", "-f", "-qq", "-y", "-o", slog, "-e", "trace=execve,fdatasync,fsync"] + argv
    return env.start(argv, stderr=open(env.path("qr.log"), "ab"), start_new_session=True)


# the second line stops the first run where a crash would: in the middle
dotqmail(demo, "./\n|echo one >> %s\n|test -e %s || { echo $$ > %s; exec sleep 60; }\n" % (runs, flag, reached))
t.eq(queue_add(env, "sender@example.test", ["demo@example.test"], b"Subject: crash\n\nbody\n"), 0, "queued")
qr = start()
t.ok(wait_for(lambda: os.path.exists(reached) and open(reached).read().strip(), 30), "the last line is running", log())
agent = int(open(reached).read().strip() or 0)
os.killpg(qr.pid, signal.SIGKILL)
qr.wait(15)
try:
    os.kill(agent, signal.SIGKILL)   # in a process group of its own (the time limit)
except OSError:
    pass
t.ok(wait_for(lambda: not os.path.exists("/proc/%d" % agent) or
              open("/proc/%d/stat" % agent).read().split()[2] == "Z", 10), "queue-run and its children killed")
t.eq(len(maildir_files(demo)), 1, "the Maildir line was carried out before the crash")
t.eq(open(runs).read(), "one\n", "so was the program line")
t.eq(len(queue_files(env)), 1, "the message is still queued")

open(flag, "w").close()
qr = start()
t.ok(wait_for(lambda: not queue_files(env), 30), "delivered on the next run", log())
t.eq(len(maildir_files(demo)), 1, "the Maildir line not carried out again")
t.eq(open(runs).read(), "one\n", "nor the program line")
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")

if traced:
    calls = open(slog).read().splitlines()
    sync = [i for i, c in enumerate(calls) if re.search(r"fdatasync\(\d+<[^>]*/state/[0-9.]+\.qmail>\) = 0", c)]
    prog = [i for i, c in enumerate(calls) if re.search(r'execve\("/bin/sh", \["/bin/sh", "-c", "', c)]
    t.ok(len(sync) == 2, "one synced record per line carried out before the last", "\n".join(calls))
    t.ok(len(prog) == 2 and len(sync) == 2 and sync[0] < prog[0] < sync[1] < prog[1],
         "each record synced before the next line starts", "\n".join(calls))
else:
    t.ok(1, "# skip strace unusable here")
    t.ok(1, "# skip strace unusable here")
t.done()
