#!/usr/bin/python3
# queue-run with envelopes holding quoted local parts (RFC 5321 4.1.2),
# which smtp-recv takes for a relay client: "a b"@remote.test is delivered
# like any other address, byte for byte on the wire, as recipient and as
# sender, and through the persistent smtp-send -B workers too (their job
# lines split such a field at its closing quote). Malformed ones (an
# unclosed quote, a backslash escaping the closing quote, a blank outside
# quotes) are refused 5.1.3 by smtp-send, and queue-run still matches its
# result lines to the recipients: else the good recipients of the same
# job are taken for unanswered and delivered again on every retry.
import email, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for, queue_files
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
p = SMTPPeer({})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % p.port)

good = ['"a b"@remote.test', "ok@remote.test", '"q\\"r s"@remote.test']
bad = ['"x y@remote.test', '"v w\\"@remote.test', 'c"d e"@remote.test']
# the job of message 1 (bad addresses in it) runs its own smtp-send; those
# of messages 2 and 3 go to the one worker (-r 1), which keeps its
# connection: one session carries both
t.eq(queue_add(env, "sender@example.test", [good[0], bad[0], good[1], bad[1], good[2], bad[2]],
               b"Subject: one\n\nbody\n"), 0, "queue-add takes quoted and malformed recipients")
t.eq(queue_add(env, '"s s"@example.test', ['"a b"@remote.test', "two@remote.test"], b"Subject: two\n\nbody\n"), 0,
     "queue-add takes a quoted sender")
t.eq(queue_add(env, '"s s"@example.test', ['"c\\\\d"@remote.test'], b"Subject: three\n\nbody\n"), 0,
     "... and an escaped backslash")
log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1", "-L", "30", "-r", "1"], stderr=log)

t.ok(wait_for(lambda: not queue_files(env), 20), "queue empty: each recipient settled")
time.sleep(2.5)   # retries every second: a wrongly retried recipient shows up here


def txns():
    """(MAIL command, [RCPT commands], session index) per transaction with data"""
    out = []
    for n, s in enumerate(p.sessions):
        mail, rcpts = None, []
        for c in s["cmds"]:
            u = c.upper()
            if u.startswith(b"MAIL FROM:"):
                mail, rcpts = c, []
            elif u.startswith(b"RCPT TO:"):
                rcpts.append(c)
            elif u == b"DATA":
                out.append((mail, rcpts, n))
    return out


got = txns()
t.eq(len(got), 3, "three transactions, one a message")
m1 = [x for x in got if x[0].startswith(b"MAIL FROM:<sender@example.test>")]
t.eq([x[1] for x in m1], [[b'RCPT TO:<"a b"@remote.test>', b"RCPT TO:<ok@remote.test>",
                           b'RCPT TO:<"q\\"r s"@remote.test>']],
     "message 1: the good recipients, byte for byte, once")
m2 = [x for x in got if x[0].split(b" SIZE=")[0] == b'MAIL FROM:<"s s"@example.test>']
t.eq(sorted(x[1] for x in m2), [[b'RCPT TO:<"a b"@remote.test>', b"RCPT TO:<two@remote.test>"],
                                [b'RCPT TO:<"c\\\\d"@remote.test>']],
     "messages 2 and 3: the quoted sender and recipients, byte for byte, once each")
t.ok(len(m2) == 2 and m2[0][2] == m2[1][2], "messages 2 and 3 on one connection: a worker's batch lines carried them")

reports = [f for f in maildir_files(snd) if b"multipart/report" in open(f, "rb").read()]
t.eq(len(reports), 1, "one report, for the recipients smtp-send refused")
if reports:
    m = email.message_from_bytes(open(reports[0], "rb").read())
    ds = m.get_payload()[1].get_payload()
    t.eq([b.get("Final-Recipient") for b in ds[1:]], ["rfc822; " + a for a in bad], "it names the malformed three")
    t.eq([b.get("Action") for b in ds[1:]], ["failed"] * 3, "failed")
    t.eq([b.get("Status") for b in ds[1:]], ["5.1.3"] * 3, "with smtp-send's 5.1.3")
p.close()
t.done()
