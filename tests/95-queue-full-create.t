#!/usr/bin/python3
# A queue file system with no room for one more file (ENOSPC at the
# queue file's creation, not at a later write): queue-add exits 53, and
# smtp-recv answers 452 4.3.1, in-process and through queue-add alike;
# with no room even for the queue's directories, the same.
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
if os.getuid() != 0 or not shutil.which("unshare"):
    t.ok(True, "# SKIP needs root and unshare (a private tmpfs)")
    t.done()
    sys.exit(0)
env = pmtest.Env()
env.add_user("u@example.test", "pw")
full = env.path("fullq")
os.mkdir(full)
MSG = (b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
       b"Subject: full\r\n\r\nbody\r\n.\r\nQUIT\r\n")
# in a private mount namespace: a tmpfs with few inodes; $PREP fills them
# (after a first message made the queue's directories, unless NOINIT)
SCRIPT = r"""
mount -t tmpfs -o size=4m,nr_inodes=40 tmpfs "$FULL" || exit 99
if [ -z "$NOINIT" ]; then
	printf 'x\n' | { printf 'Fs@x\0Tu@example.test\0\0' > "$FULL/.env"; queue-add 1< "$FULL/.env"; } || exit 98
	rm -f "$FULL/.env" "$FULL"/new/* 
fi
i=0
while [ $i -lt 100 ] && touch "$FULL/fill.$i" 2>/dev/null; do i=$((i+1)); done
[ $i -lt 100 ] || exit 97
exec "$@"
"""


def run(argv, stdin, noinit=False, qmailqueue=""):
    e = dict(env.env, PIPEMAIL_QUEUE=full, FULL=full, TCPREMOTEIP="192.0.2.7", QMAILQUEUE=qmailqueue)
    if noinit:
        e["NOINIT"] = "1"
    return subprocess.run(["unshare", "-m", "sh", "-c", SCRIPT, "sh"] + argv, input=stdin, env=e,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


probe = run(["true"], b"")
if probe.returncode == 99:
    t.ok(True, "# SKIP no tmpfs mount here")
    t.done()
    sys.exit(0)
t.eq(probe.returncode, 0, "a queue on a tmpfs whose inodes are all used")



def refused_452(r):
    """the message (DATA, or its end when the queue program failed late)
    answered 452 4.3.1, never 250 or 451; when DATA itself is refused the
    message pipelined after it ends the session with 421 (test 133)"""
    c = smtp_codes(r.stdout)
    return c[:4] == [220, 250, 250, 250] and 452 in c[4:] and 250 not in c[4:] and 451 not in c and \
        b"452 4.3.1 " in r.stdout and (c[-1] == 221 or c[4:] == [452, 421])


r = run([pmtest.bin("smtp-recv")], MSG)
t.ok(refused_452(r), "in-process: no room for the queue file -> 452 4.3.1", r.stdout[-300:])
r = run([pmtest.bin("smtp-recv")], MSG, qmailqueue=pmtest.bin("queue-add"))
t.ok(refused_452(r), "through queue-add: no room for the queue file -> 452 4.3.1", r.stdout[-300:])

envelope = env.path("envelope")
with open(envelope, "wb") as f:
    f.write(b"Fs@x\0Tu@example.test\0\0")
r = run(["sh", "-c", 'exec "$0" 1<"$1"', pmtest.bin("queue-add"), envelope], b"Subject: x\n\nbody\n")
t.eq(r.returncode, 53, "queue-add: no room for the queue file -> 53 (write error, disk full)")

r = run(["sh", "-c", 'exec "$0" 1<"$1"', pmtest.bin("queue-add"), envelope], b"Subject: x\n\nbody\n", noinit=True)
t.eq(r.returncode, 53, "queue-add: no room for the queue's directories -> 53")
r = run([pmtest.bin("smtp-recv")], MSG, noinit=True)
t.ok(refused_452(r), "smtp-recv: no room for the queue's directories -> 452 4.3.1", r.stdout[-300:])

t.done()
