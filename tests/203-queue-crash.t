#!/usr/bin/python3
# I1 for the queue: a power loss right after queue-add's exit 0, or right
# after smtp-recv's 250 to the final dot (QMAILQUEUE unset: its own
# in-process writer), leaves a whole queue file that queue-run delivers,
# byte for byte. On ext4 without a journal and with one (data=ordered);
# with a queue file made anew, and with one taken from pool/ (a finished
# message's file, emptied and rewritten in place). The crash: the image
# copied as the loop device left it (tests/pmtest.py's CrashFS), then
# e2fsck -fy on the copy, then queue-run on the copy.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.crash_tap()   # from here on in a mount namespace of its own
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")   # on the host's disk: the copies deliver there
# a message of several blocks, each line its own: a block lost or stale shows
BODY = b"".join(b"line %06d of the message body, which spans several blocks\n" % i for i in range(3000))


def message(tag):
    return b"Subject: " + tag + b"\n\n" + BODY


def delivered_from_copy(at, tag):
    """queue-run started on the crashed copy's queue: the copies of tag
    it delivered (at most one expected), and its log"""
    e = {"PIPEMAIL_QUEUE": at + "/queue"}
    log = env.path("queue-run-%s.log" % tag.decode())
    qr = env.start([pmtest.bin("queue-run"), "-b", "1"], env=e, stderr=open(log, "wb"))
    pmtest.wait_for(lambda: pmtest.subject_copies(demo, tag) or qr.poll() is not None, 15)
    pmtest.wait_for(lambda: not os.listdir(at + "/queue/mess"), 5)
    qr.terminate()
    qr.wait(10)
    texts = [x for x in pmtest.maildir_texts(demo) if b"Subject: " + tag + b"\n" in x]
    return texts, open(log, "rb").read().decode(errors="replace")


def check(fs, tag, how):
    at, rc, text = fs.crash(rw=True)
    t.ok(rc in (0, 1), "%s: fsck leaves a usable file system" % how, text[-800:])
    texts, log = delivered_from_copy(at, tag)
    t.ok(len(texts) == 1 and texts[0].endswith(BODY), "%s: after the crash queue-run delivers it, whole" % how,
         "copies %d\n%s\n%s" % (len(texts), "\n".join(pmtest.fsck_lost(text)), log[-600:]))


def smtp_recv_until_250(tag):
    """one message through smtp-recv on fds 0/1; returns once its 250 to
    the final dot is read (the session still open), with the process"""
    p = env.start([pmtest.bin("smtp-recv")], env={"TCPREMOTEIP": "192.0.2.7"},
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    data = message(tag).replace(b"\n", b"\r\n")
    p.stdin.write(b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n" +
                  data + b".\r\n")
    p.stdin.flush()
    got = b""
    while True:
        codes = pmtest.smtp_codes(got)
        if 354 in codes and codes[-1] != 354 or codes and codes[-1] >= 400:
            break
        b = os.read(p.stdout.fileno(), 65536)
        if not b:
            break
        got += b
    return p, pmtest.smtp_codes(got)


def seed_pool(fs, n):
    """pool/ as a busy queue leaves it: finished messages' files, here
    still full, as a crash between their move and their emptying leaves
    them (the writer that takes one empties it), on disk"""
    os.makedirs(fs.mnt + "/queue/pool", exist_ok=True)
    for i in range(n):
        with open(fs.mnt + "/queue/pool/1700000000.%d.1" % i, "wb") as f:
            f.write(b"PMQ1 old message\n" + BODY.replace(b"line", b"OLD!"))
    fs.settle()


for journal in (False, True):
    kind = "with a journal" if journal else "without a journal"
    fs = pmtest.CrashFS(env.path("fs%d" % journal), journal=journal)
    env.env["PIPEMAIL_QUEUE"] = fs.mnt + "/queue"
    env.queue = fs.mnt + "/queue"
    fs.settle()

    tag = b"queue-add-new-%d" % journal
    t.eq(pmtest.queue_add(env, "s@sender.test", ["demo@example.test"], message(tag)), 0,
         "%s: queue-add, a new file: exit 0" % kind)
    check(fs, tag, "%s: queue-add, a new file" % kind)

    seed_pool(fs, 3)
    tag = b"queue-add-pool-%d" % journal
    t.eq(pmtest.queue_add(env, "s@sender.test", ["demo@example.test"], message(tag)), 0,
         "%s: queue-add, a pool file: exit 0" % kind)
    t.ok(len(os.listdir(fs.mnt + "/queue/pool")) == 2, "%s: the pool file was used" % kind)
    check(fs, tag, "%s: queue-add, a pool file" % kind)

    for what in ("pool", "new"):
        if what == "new":
            for f in os.listdir(fs.mnt + "/queue/pool"):
                os.unlink(fs.mnt + "/queue/pool/" + f)
        tag = b"smtp-recv-%s-%d" % (what.encode(), journal)
        how = "%s: smtp-recv, a %s file" % (kind, what)
        p, codes = smtp_recv_until_250(tag)
        t.eq(codes[-2:], [354, 250], how + ": 250 to the final dot")
        check(fs, tag, how)   # the session still open: the crash comes right after the 250
        p.stdin.write(b"QUIT\r\n")
        p.stdin.close()
        p.wait(10)
    fs.fsck_verdicts(t, kind)
t.done()
