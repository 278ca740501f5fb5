#!/usr/bin/python3
# THREATS I2/I4, fault SIGKILL: pop-serve killed while QUIT removes the
# messages marked with DELE (strace sends SIGKILL at its K-th unlinkat,
# K = 1, 3, 6). The session never gets +OK; the next one sees each
# message either still there or gone, never half: every message not
# marked is there with its UIDL and size, every marked one is there
# unchanged or gone, every file left in new/ and cur/ is one listed
# message, and each reads back whole. Marked messages lie in new/ and in
# cur/ (a session before RETRieved half of them).
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
env = pmtest.Env()
PW = "quit pw"
FAST = {"PIPEMAIL_LOGIN_DELAY_MS": "1"}
N = 12
MARK = (2, 3, 5, 7, 8, 9, 11)   # 1-based, before the first session's moves
plain = env.server(["pop-serve", "-P"], env=FAST)


def state(port, user):
    """{uid: (size, subject)} as a session sees it, and the file count"""
    r = pmtest.PopRaw(port)
    ok = r.login(user, PW)
    if not ok.startswith(b"+OK"):
        r.close()
        return None, ok
    r.cmd(b"UIDL")
    uids = [l.split() for l in r.multi()]
    r.cmd(b"LIST")
    sizes = dict(l.split() for l in r.multi())
    out = {}
    for n, uid in uids:
        a = r.cmd(b"RETR " + n)
        body = b"".join(r.multi())
        subj = [l for l in body.split(b"\r\n") if l.startswith(b"Subject: ")]
        out[uid] = (int(sizes[n]), subj[0] if subj else None, a.startswith(b"+OK") and r.end == b".\r\n")
    r.cmd(b"RSET")   # RETR would move the messages: leave them as they are
    r.cmd(b"QUIT")
    r.close()
    return out, None


def files(md):
    return sorted(os.listdir(os.path.join(md, "new")) + os.listdir(os.path.join(md, "cur")))


for k in (1, 3, 6):
    user = "u%d@example.test" % k
    md = env.add_user(user, PW)
    for i in range(1, N + 1):
        env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md],
                input=b"Subject: msg %02d\n\n" % i + b"line\n" * i,
                env={"SENDER": "a@b.test", "RECIPIENT": user, "DTLINE": ""})
    # half of them to cur/ (RETR moves a message at QUIT)
    r = pmtest.PopRaw(plain)
    r.login(user, PW)
    for i in range(1, N + 1, 2):
        r.cmd(b"RETR %d" % i)
        r.multi()
    r.cmd(b"QUIT")
    r.close()
    t.ok(os.listdir(os.path.join(md, "cur")) and os.listdir(os.path.join(md, "new")), "K=%d: messages in new/ and cur/" % k)
    port = env.server(["pop-serve", "-P"], env=FAST,
                      wrap=["strace", "-f", "-o", "/dev/null", "-e", "trace=unlinkat",
                            "-e", "inject=unlinkat:signal=SIGKILL:when=%d" % k])
    r = pmtest.PopRaw(port)
    r.login(user, PW)
    r.cmd(b"UIDL")
    before = {}
    for n, uid in (l.split() for l in r.multi()):
        before[int(n)] = uid
    r.cmd(b"LIST")
    size = {before[int(n)]: int(z) for n, z in (l.split() for l in r.multi())}
    marked = set()
    for n in MARK:
        if r.cmd(b"DELE %d" % n).startswith(b"+OK"):
            marked.add(before[n])
    t.eq(len(marked), len(MARK), "K=%d: DELE of %d messages" % (k, len(MARK)))
    try:
        a = r.cmd(b"QUIT")
    except OSError:
        a = b""
    r.close()
    t.ok(not a.startswith(b"+OK"), "K=%d: killed during QUIT: no +OK" % k, a)
    after, why = state(plain, user)
    if after is None:
        t.ok(False, "K=%d: the next session logs in" % k, why)
        continue
    kept = set(before.values()) - marked
    t.ok(kept <= set(after), "K=%d: every message not marked is there" % k, sorted(kept - set(after)))
    t.ok(set(after) <= set(before.values()), "K=%d: no message under a new UIDL" % k,
         sorted(set(after) - set(before.values())))
    t.ok(all(after[u][0] == size[u] for u in after), "K=%d: each message left has its size" % k)
    t.ok(all(v[2] and v[1] and v[1].startswith(b"Subject: msg ") for v in after.values()),
         "K=%d: each message left reads back whole" % k, after)
    gone = marked - set(after)
    t.diag("K=%d: %d of %d marked messages gone" % (k, len(gone), len(marked)))
    t.ok(len(files(md)) == len(after), "K=%d: every file left is one listed message" % k, (files(md), sorted(after)))
    if k > 1:
        t.ok(gone and gone != marked, "K=%d: killed part-way: some marked gone, some still there" % k,
             (len(gone), len(marked)))
t.done()
