#!/usr/bin/python3
# THREATS I2/I3 for the queue writers (queue-add, and smtp-recv's own
# in-process writer) when the queue cannot be written: wrong permissions
# (the queue, or one of mess/ and new/, not the writer's: an admin's chown
# gone wrong) and a read-only file system. Every such failure is
# temporary: queue-add exits with a qmail-queue temporary code (51-81) and
# one fatal line, smtp-recv answers the final dot 4xx (never 2xx, never
# 5xx) in process and through queue-add alike, and nothing is left in
# mess/ or new/. Test 95 covers a full queue file system, 131 and 134 a
# failing fsync or close, 48 a file size limit.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root: the writers run as the queue's owner, a user other than the one that owns the faults")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
os.chown(os.path.join(env.conf, "users.cdb"), 0, pmtest.MAILGID)   # smtp-recv's user reads it
Q = pmtest.queue_of_mailuser(env)
UID, GID = pmtest.MAILUID, pmtest.MAILGID
MSG = b"Subject: queue fault\n\nhello\n"
SMTP = (b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
        b"Subject: queue fault\r\n\r\nhello\r\n.\r\nQUIT\r\n")
ENVELOPE = b"Fs@sender.test\0Tu@example.test\0\0"


def as_owner():
    os.setgroups([])
    os.setgid(GID)
    os.setuid(UID)


def files():
    return {d: sorted(os.listdir(os.path.join(Q, d))) for d in ("mess", "new")}


def queue_add(wrap=(), preexec=as_owner):
    """queue-add (under wrap): (exit code, stderr)"""
    r, w = os.pipe()
    os.write(w, ENVELOPE)
    os.close(w)
    p = subprocess.Popen([*wrap, pmtest.bin("queue-add")], stdin=subprocess.PIPE, stdout=r, stderr=subprocess.PIPE,
                         env=env.env, preexec_fn=preexec)
    os.close(r)
    _, err = p.communicate(MSG, timeout=60)
    return p.returncode, err.decode(errors="replace")


def smtp_recv(extra, wrap=(), preexec=as_owner):
    e = dict(env.env, TCPREMOTEIP="192.0.2.7", PIPEMAIL_LOGIN_DELAY_MS="0", **extra)
    r = subprocess.run([*wrap, pmtest.bin("smtp-recv")], input=SMTP, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, preexec_fn=preexec)
    return smtp_codes(r.stdout), r.stderr.decode(errors="replace")


def check(name, wrap=(), preexec=as_owner):
    before = files()
    rc, err = queue_add(wrap, preexec)
    t.ok(51 <= rc <= 81, name + ": queue-add exits with a temporary code (%d)" % rc, err)
    t.ok(err.startswith("queue-add: fatal: ") and err.count("\n") == 1, name + ": one fatal line", err)
    for how, extra in (("in process", {}), ("through queue-add", {"QMAILQUEUE": pmtest.bin("queue-add")})):
        codes, err = smtp_recv(extra, wrap, preexec)
        # the in-process writer makes its file at DATA: a 4xx there (and the
        # pipelined text then ends the session, test 133) or at the dot
        late = [c for c in codes[4:] if c != 354][:1]   # the reply to DATA, else to the dot
        t.ok(codes[:4] == [220, 250, 250, 250] and late and 400 <= late[0] < 500 and
             not [c for c in codes[4:] if c == 250 or c >= 500],
             name + ": smtp-recv %s answers DATA or the dot 4xx, never 2xx or 5xx" % how, (codes, err[-300:]))
    t.eq(files(), before, name + ": nothing left in mess/ or new/")


# control: the queue as INSTALL lays it out takes the message
rc, err = queue_add()
t.eq(rc, 0, "control: queue-add as the queue's owner queues")
codes, err = smtp_recv({})
t.eq(codes[-2:], [250, 221], "control: smtp-recv queues")

for what, mode in (("", 0o700), ("mess", 0o755), ("new", 0o755)):
    p = os.path.join(Q, what)
    os.chown(p, 0, 0)
    os.chmod(p, mode)
    check("%s owned by root, %04o" % (what + "/" if what else "the queue directory", mode))
    os.chown(p, UID, GID)
    os.chmod(p, 0o750)

# a read-only file system: the queue bound read-only onto itself in a
# private mount namespace, the writer run in it (as root, whom no
# permission stops: the fault is the file system's alone)
if subprocess.run(["unshare", "-m", "true"], stderr=subprocess.DEVNULL).returncode != 0:
    t.diag("no private mount namespace: read-only case skipped")
else:
    ro = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', Q]
    check("read-only file system", wrap=ro, preexec=None)
t.done()
