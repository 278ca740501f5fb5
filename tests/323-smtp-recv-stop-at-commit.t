#!/usr/bin/python3
# A stop signal (SIGTERM, SIGINT, SIGHUP: an admin's kill, a process
# group's) that reaches smtp-recv while the queue program commits the
# message: smtp-recv used to die at once, so a message the queue kept was
# never answered, and the client, told nothing, sent it again. The signal
# now waits until the answer is out, then ends the session as it would
# have. A signal before the end of data still ends it at once, unqueued.
import os, select, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes, wait_for

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
marks = env.path("marks")
os.mkdir(marks)
slow = env.path("slowqueue")
# queue-add behind a pause, as a filter chain's would be; "committing"
# once the message is whole (smtp-recv closes it at the end of data, as it
# hands over the envelope), not at DATA, when smtp-recv starts the program
with open(slow, "w") as f:
    f.write('#!/bin/sh\ncat > "$MARKS/msg"\n: > "$MARKS/committing"\nsleep 1\nqueue-add < "$MARKS/msg"\n'
            'rc=$?\n: > "$MARKS/done"\nexit $rc\n')
os.chmod(slow, 0o755)
HEAD = b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
BODY = b"Subject: stop\r\n\r\nbody\r\n.\r\n"


def queued():
    d = os.path.join(env.queue, "mess")
    return len(os.listdir(d)) if os.path.isdir(d) else 0


def until_354(p, limit=20):
    """the replies up to and with DATA's 354 (each read bounded in time)"""
    got, end = b"", time.monotonic() + limit
    while b"\r\n354 " not in got and time.monotonic() < end:
        r, _, _ = select.select([p.stdout], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        b = os.read(p.stdout.fileno(), 4096)
        if not b:
            break
        got += b
    return got


def session(sig, at_commit):
    for n in os.listdir(marks):
        os.unlink(os.path.join(marks, n))
    e = dict(env.env, TCPREMOTEIP="192.0.2.7", QMAILQUEUE=slow, MARKS=marks)
    p = subprocess.Popen([pmtest.bin("smtp-recv")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=e, start_new_session=True,
                         preexec_fn=pmtest.default_signals)
    p.stdin.write(HEAD)
    p.stdin.flush()
    head = until_354(p)   # the message begun; a signal now comes inside DATA
    ok = b"\r\n354 " in head
    if at_commit:
        p.stdin.write(BODY)
        p.stdin.flush()
        ok = wait_for(lambda: os.path.exists(os.path.join(marks, "committing")), 20) and ok
    p.send_signal(sig)
    out, _ = p.communicate(timeout=30)
    if at_commit:   # the queue program's own end, whatever became of smtp-recv
        ok = wait_for(lambda: os.path.exists(os.path.join(marks, "done")), 20) and ok
    return ok, p.returncode, smtp_codes(head + out)


for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    name = signal.Signals(sig).name
    before = queued()
    ok, rc, codes = session(sig, True)
    t.ok(ok, "%s: the queue program started and ended" % name)
    t.eq(codes[-1:], [250], "%s during the commit: the client still gets its 250" % name)
    t.eq(rc, -sig, "%s: then the signal ends smtp-recv" % name)
    t.eq(queued(), before + 1, "%s: the message queued once" % name)

before = queued()
ok, rc, codes = session(signal.SIGTERM, False)
t.ok(ok, "DATA's 354 came")
t.eq((rc, codes[-1:]), (-signal.SIGTERM, [354]), "SIGTERM inside DATA: smtp-recv ends at once, no answer")
t.eq(queued(), before, "nothing queued")
t.done()
