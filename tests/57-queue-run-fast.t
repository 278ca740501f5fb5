#!/usr/bin/python3
# queue-run's fast paths: local Maildir delivery in-process (byte-exact
# with deliver-maildir, owned by the user), remote delivery through
# persistent smtp-send -B workers (DSN parameters per job, connections
# reused, a killed worker replaced with nothing lost), and smtp-send -B's
# DSN line on its own.
import os, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
for c in ("queue-run", "queue-add", "smtp-send", "deliver-maildir"):
    if not os.path.exists(pmtest.bin(c)):
        t.skip_all(c + " not built")

MSG = (b"From: a@example.org\r\nTo: demo@example.test\r\nSubject: fast\r\n\r\n"
       b"line one\r\nbare lf\nbare cr\rx\r\n\x80\xff 8-bit\r\n.\r\n..dots\r\nend")


def children(pid, name):
    """pids of pid's children whose command is name"""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and comm == name:
            out.append(int(p))
    return out


def run_queue(env, extra=None, argv=()):
    e = dict(env.env)
    if extra:
        e.update(extra)
    log = open(env.path("queue-run.log"), "ab")
    p = subprocess.Popen([pmtest.bin("queue-run"), "-b", "1", "-m", "2"] + list(argv), env=e, stderr=log)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


# --- local: in-process and deliver-maildir give the same bytes ---------------
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")
qr = run_queue(env)
t.eq(queue_add(env, "sender@example.org", ["demo@example.test"], MSG), 0, "queued (in-process delivery)")
t.ok(wait_for(lambda: len(maildir_files(demo)) == 1 and not queue_files(env)), "delivered in-process")
stop(qr)
qr = run_queue(env, {"PIPEMAIL_DELIVER": "deliver-maildir"})
t.eq(queue_add(env, "sender@example.org", ["demo@example.test"], MSG), 0, "queued (deliver-maildir)")
t.ok(wait_for(lambda: len(maildir_files(demo)) == 2 and not queue_files(env)), "delivered through deliver-maildir")
stop(qr)
files = maildir_files(demo)
got = [open(f, "rb").read() for f in files]
t.ok(len(got) == 2 and got[0] == got[1], "in-process delivery is byte-identical to deliver-maildir's")
want = (b"Return-Path: <sender@example.org>\nDelivered-To: demo@example.test\n" +
        MSG.replace(b"\r\n", b"\n") + b"\n")   # its last line ended
t.ok(got and got[0] == want, "the file is the message with LF line ends and the two envelope lines on top")
if os.geteuid() == 0:
    st = [os.stat(f) for f in files]
    t.ok(all(s.st_uid == pmtest.MAILUID and s.st_gid == pmtest.MAILGID for s in st),
         "the file belongs to the user, not root")
    t.ok(all(s.st_mode & 0o777 == 0o600 for s in st), "mode 0600")
else:
    t.ok(True, "# skip ownership: not root")
    t.ok(True, "# skip mode: not root")
# a .qmail Maildir line, delivered in-process into a folder it creates
with open(os.path.join(demo, ".qmail"), "w") as f:
    f.write("./.Lists/\n")
if os.geteuid() == 0:
    os.chown(os.path.join(demo, ".qmail"), pmtest.MAILUID, pmtest.MAILGID)
qr = run_queue(env)
t.eq(queue_add(env, "sender@example.org", ["demo@example.test"], MSG), 0, "queued for the .qmail folder line")
t.ok(wait_for(lambda: len(maildir_files(os.path.join(demo, ".Lists"))) == 1 and not queue_files(env)),
     "a .qmail ./Maildir/ line: delivered in-process into the folder it names")
stop(qr)
os.unlink(os.path.join(demo, ".qmail"))
env.close()

# --- remote: workers, DSN parameters, connection reuse -------------------------
env = pmtest.Env()
peer = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SIZE", b"DSN"]})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d\n" % peer.port)
qr = run_queue(env)
dsn = "RET=HDRS ENVID=env+2Bid\nNOTIFY=FAILURE,DELAY ORCPT=rfc822;a@remote.test\nNOTIFY=NEVER\n"
t.eq(queue_add(env, "sender@example.org", ["a@remote.test", "b@remote.test"], MSG, dsn=dsn), 0, "queued with DSN parameters")
t.ok(wait_for(lambda: not queue_files(env)), "delivered through a worker")
cmds = [c for s in peer.sessions for c in s["cmds"]]
mail = [c for c in cmds if c.upper().startswith(b"MAIL")]
rcpt = [c for c in cmds if c.upper().startswith(b"RCPT")]
t.ok(mail and b"RET=HDRS" in mail[-1] and b"ENVID=env+2Bid" in mail[-1], "MAIL carries RET and ENVID from the queue")
t.ok(len(rcpt) == 2 and b"NOTIFY=FAILURE,DELAY" in rcpt[0] and b"ORCPT=rfc822;a@remote.test" in rcpt[0]
     and b"NOTIFY=NEVER" in rcpt[1], "each RCPT carries its own NOTIFY/ORCPT")
t.diag(repr(cmds)) if t.failed else None
N = 20
before = len(peer.sessions)
for i in range(N):
    queue_add(env, "sender@example.org", ["n%d@remote.test" % i], b"Subject: n%d\n\nx\n" % i)
t.ok(wait_for(lambda: not queue_files(env), 30), "%d more delivered" % N)
t.ok(len(peer.sessions) - before < N, "connections reused across messages (%d sessions for %d messages)"
     % (len(peer.sessions) - before, N))
workers = children(qr.pid, "smtp-send")
t.ok(len(workers) >= 1, "persistent smtp-send -B workers stay up between messages")

# a worker killed in the middle: its recipients are retried, a new worker serves
for w in workers:
    os.kill(w, signal.SIGKILL)
t.ok(wait_for(lambda: all(w not in children(qr.pid, "smtp-send") for w in workers), 10),
     "killed workers are reaped")
for i in range(N):
    queue_add(env, "sender@example.org", ["k%d@remote.test" % i], b"Subject: k%d\n\nx\n" % i)
# kill whatever worker is up, a few times, while the batch drains
kills = 0
end = time.monotonic() + 20
while queue_files(env) and time.monotonic() < end and kills < 3:
    ws = children(qr.pid, "smtp-send")
    if ws:
        os.kill(ws[0], signal.SIGKILL)
        kills += 1
    time.sleep(0.05)
t.ok(wait_for(lambda: not queue_files(env), 40), "every message delivered after %d worker kills" % kills)
accepted = set()
for s in peer.sessions:
    for c in s["cmds"]:
        if c.upper().startswith(b"RCPT") and b"<k" in c:
            accepted.add(c.split(b"<", 1)[1].split(b">", 1)[0])
t.eq(len(accepted), N, "all %d recipients reached the peer" % N)
t.ok(qr.poll() is None, "queue-run still running")
log = open(env.path("queue-run.log"), "rb").read().decode(errors="replace")
t.eq(log.count("channel=remote status=ok"), N + 2 + N, "one ok delivery line per recipient")
stop(qr)
t.ok(wait_for(lambda: not children(qr.pid, "smtp-send"), 5), "no worker outlives queue-run's stop")

# --- smtp-send -B alone: the DSN line applies to the next job only -------------
msgf = env.path("msg")
with open(msgf, "wb") as f:
    f.write(b"Subject: b\r\n\r\nbody\r\n")
jobs = ("DSN\tRET=FULL\tNOTIFY=SUCCESS ORCPT=rfc822;x@remote.test\n"
        "%s remote.test s@example.org x@remote.test\n"
        "%s remote.test s@example.org y@remote.test\n" % (msgf, msgf))
before = len(peer.sessions)
r = env.run(["smtp-send", "-B"], input=jobs.encode(), check=False)
out = r.stdout.decode()
t.eq(out.count("\n.\n") + out.startswith(".\n"), 2, "two jobs answered")
cmds = [c for s in peer.sessions[before:] for c in s["cmds"]]
mail = [c for c in cmds if c.upper().startswith(b"MAIL")]
rcpt = [c for c in cmds if c.upper().startswith(b"RCPT")]
t.ok(len(mail) == 2 and b"RET=FULL" in mail[0] and b"RET=" not in mail[1], "RET only on the job after the DSN line")
t.ok(len(rcpt) == 2 and b"NOTIFY=SUCCESS" in rcpt[0] and b"ORCPT=rfc822;x@remote.test" in rcpt[0]
     and b"NOTIFY" not in rcpt[1], "NOTIFY/ORCPT only on that job's recipient")
t.diag(out + repr(cmds)) if t.failed else None
peer.close()
t.done()
