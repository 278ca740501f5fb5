#!/usr/bin/python3
# queue-run, remote side, through the real smtp-send to a small SMTP peer
# on 127.0.0.1 reached via the routes file: retry (451 twice then 250 ->
# delivered once), partial failure 250/550/451 in one message, the queue
# lifetime (one parseable report, none for a null sender).
import email, os, socket, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")

lock = threading.Lock()
delivered = {}      # rcpt -> number of DATA transactions that accepted it
tries = {}          # rcpt -> RCPT attempts
mails = []          # one entry per MAIL FROM


def verdict(rcpt):
    """local part says how to answer: ok*, bad*, tmp* (always 451), twice* (451 twice, then 250)"""
    user = rcpt.split("@")[0].lower()
    with lock:
        n = tries[rcpt] = tries.get(rcpt, 0) + 1
    if user.startswith("bad"):
        return b"550 5.1.1 no such mailbox\r\n"
    if user.startswith("tmp"):
        return b"451 4.3.0 try again later\r\n"
    if user.startswith("twice") and n <= 2:
        return b"451 4.7.1 greylisted\r\n"
    return b"250 2.1.5 ok\r\n"


def session(c):
    f = c.makefile("rb")
    c.sendall(b"220 peer.test ESMTP\r\n")
    rcpts = []
    try:
        while True:
            line = f.readline(2000)
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                c.sendall(b"250-peer.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif cmd.startswith(b"HELO"):
                c.sendall(b"250 peer.test\r\n")
            elif cmd.startswith(b"MAIL"):
                rcpts = []
                with lock:
                    mails.append(1)
                c.sendall(b"250 2.1.0 ok\r\n")
            elif cmd.startswith(b"RCPT"):
                addr = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                v = verdict(addr)
                if v.startswith(b"250"):
                    rcpts.append(addr)
                c.sendall(v)
            elif cmd == b"DATA":
                if not rcpts:
                    c.sendall(b"554 5.5.1 no valid recipients\r\n")
                    continue
                c.sendall(b"354 go ahead\r\n")
                while True:
                    l = f.readline(100000)
                    if not l or l == b".\r\n":
                        break
                with lock:
                    for r in rcpts:
                        delivered[r] = delivered.get(r, 0) + 1
                c.sendall(b"250 2.0.0 queued\r\n")
            elif cmd == b"RSET" or cmd == b"NOOP":
                rcpts = []
                c.sendall(b"250 2.0.0 ok\r\n")
            elif cmd == b"QUIT":
                c.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.2 unknown\r\n")
    except OSError:
        pass
    finally:
        c.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(50)
port = srv.getsockname()[1]
stop = False


def serve():
    srv.settimeout(0.2)
    while not stop:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=session, args=(c,), daemon=True).start()


threading.Thread(target=serve, daemon=True).start()

env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % port)

log = open(env.path("queue-run.log"), "wb")
# retries every second, lifetime 6 s
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "6"], stderr=log)

# retry: 451 twice then 250 -> exactly once
queue_add(env, "sender@example.test", ["twice@remote.test"], b"Subject: retry\n\nbody\n")
t.ok(wait_for(lambda: delivered.get("twice@remote.test"), 20), "451, 451, then 250: delivered")
t.ok(wait_for(lambda: not queue_files(env), 10), "queue empty after the retry succeeded")
time.sleep(1.5)
t.eq(delivered.get("twice@remote.test"), 1, "delivered exactly once")
t.eq(tries.get("twice@remote.test"), 3, "three attempts")

# all recipients of one domain in one smtp-send run: one transaction
before = len(mails)
queue_add(env, "sender@example.test", ["ok2@remote.test", "ok3@remote.test", "ok4@remote.test"], b"Subject: three\n\nbody\n")
t.ok(wait_for(lambda: all(delivered.get("ok%d@remote.test" % i) for i in (2, 3, 4)) and not queue_files(env), 10),
     "three recipients of one domain delivered")
t.eq(len(mails) - before, 1, "in one SMTP transaction")

# DSN parameters as smtp-recv stores them when the client gave none (an
# empty line for the message and one per recipient): once, in one attempt
queue_add(env, "sender@example.test", ["okdsn@remote.test"], b"Subject: no dsn\n\nbody\n", dsn="\n\n")
t.ok(wait_for(lambda: delivered.get("okdsn@remote.test") and not queue_files(env), 10),
     "empty DSN lines: delivered, queue empty")
time.sleep(1.5)
t.eq((delivered.get("okdsn@remote.test"), tries.get("okdsn@remote.test")), (1, 1), "empty DSN lines: once, in one attempt")

# partial failure: 250 / 550 / 451 in one message
queue_add(env, "sender@example.test", ["ok1@remote.test", "bad1@remote.test", "tmp1@remote.test"],
          b"Subject: partial\n\nbody\n")
t.ok(wait_for(lambda: delivered.get("ok1@remote.test")), "the 250 recipient delivered")
rep = wait_for(lambda: [f for f in maildir_files(snd) if b"bad1@remote.test" in open(f, "rb").read()], 10)
t.ok(len(rep) == 1, "one report for the 550")
if rep:
    m = email.message_from_bytes(open(rep[0], "rb").read())
    ds = m.get_payload()[1].get_payload()
    t.eq([b.get("Final-Recipient") for b in ds[1:]], ["rfc822; bad1@remote.test"], "the report names only the 550 recipient")
    t.eq(ds[1].get("Status"), "5.1.1", "with the peer's enhanced status")
    t.eq(ds[1].get("Remote-MTA"), "dns; 127.0.0.1", "and the Remote-MTA")
t.ok(wait_for(lambda: tries.get("tmp1@remote.test", 0) >= 2, 10), "the 451 recipient is retried")
t.eq(tries.get("ok1@remote.test"), 1, "the delivered recipient is not retried")
t.eq(tries.get("bad1@remote.test"), 1, "the refused recipient is not retried")

# lifetime: tmp1 keeps getting 451; after 6 s one 'failed' report for it
rep2 = wait_for(lambda: [f for f in maildir_files(snd) if b"tmp1@remote.test" in open(f, "rb").read()], 20)
t.ok(len(rep2) == 1, "lifetime over: one report for the always-451 recipient")
if rep2:
    m = email.message_from_bytes(open(rep2[0], "rb").read())
    t.eq(m.get_content_type(), "multipart/report", "multipart/report")
    ds = m.get_payload()[1].get_payload()
    t.eq(ds[1].get("Action"), "failed", "Action: failed")
    t.ok(ds[1].get("Status", "").startswith("4."), "Status keeps the temporary class (%s)" % ds[1].get("Status"))
    t.ok("try again later" in ds[1].get("Diagnostic-Code", ""), "Diagnostic-Code has the last reply")
    t.eq(m.get_payload()[2].get_content_type(), "message/rfc822", "original returned")
t.ok(wait_for(lambda: not queue_files(env), 10), "queue empty after the lifetime report")

# null sender: given up silently after the lifetime... except to the postmaster
n = len(maildir_files(snd))
with open(os.path.join(env.conf, "doublebounceto"), "w") as f:
    f.write("nobody-at-all@example.test\n")
qr.send_signal(1)
time.sleep(0.3)
queue_add(env, "", ["tmp2@remote.test"], b"Subject: a bounce\n\nbody\n")
t.ok(wait_for(lambda: not queue_files(env), 25), "a bounce that cannot be delivered leaves the queue")
t.eq(len(maildir_files(snd)), n, "no report for a null sender")

qr.terminate()
t.eq(qr.wait(10), 0, "SIGTERM: exit 0")

# delay warning (-w): one 'delayed' report while retrying, then the 'failed' one
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "5", "-w", "2"], stderr=log)
queue_add(env, "sender@example.test", ["tmp3@remote.test"], b"Subject: slow\n\nbody\n")
t.ok(wait_for(lambda: not queue_files(env), 25), "given up after the lifetime")
reps = [f for f in maildir_files(snd) if b"tmp3@remote.test" in open(f, "rb").read()]
actions = sorted(email.message_from_bytes(open(f, "rb").read()).get_payload()[1].get_payload()[1].get("Action")
                 for f in reps)
t.eq(actions, ["delayed", "failed"], "one delay warning, then one failure report")
qr.terminate()
qr.wait(10)
stop = True
text = open(env.path("queue-run.log"), "rb").read().decode(errors="replace")
t.ok("channel=remote" in text and "host=127.0.0.1" in text, "remote deliveries logged with the host")
if t.failed:
    t.diag(text[-4000:])
t.done()
