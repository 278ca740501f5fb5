#!/usr/bin/python3
# queue-run and a delivery file that says nothing, or is no file:
# - an empty .qmail, or one with only comments and blank lines, means
#   the default delivery (qmail-local does so for an empty one); it was
#   logged "delivered" and the message was lost;
# - a directory named .qmail (a Maildir++ folder "qmail" another IMAP
#   server made) is no delivery file; every message was deferred.
# And the user's quota holds for Maildir lines naming the user's own
# Maildir ("./") or its folders ("./.Junk/"): they were delivered without
# it, so a .qmail filing into a folder bypassed the quota.
# Both ways: in-process delivery and PIPEMAIL_DELIVER (deliver-maildir).
import os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, maildir_files, wait_for

t = pmtest.TAP()


def files_in(md):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            out += os.listdir(d)
    return out


def write_dq(md, text):
    p = os.path.join(md, ".qmail")
    with open(p, "w") as f:
        f.write(text)
    os.chown(p, pmtest.MAILUID, pmtest.MAILGID)
    os.chmod(p, 0o644)


for mode in ("inproc", "exec"):
    env = pmtest.Env()
    env.add_user("sender@example.test", "pw")
    boxes = {}
    for name, dq in (("empty", ""), ("comments", "# nothing to do\n\n   \n#./Maildir/\n")):
        md = pmtest.mailbox(env.add_user("%s@example.test" % name, "pw"))
        write_dq(md, dq)
        boxes[name] = md
    md = pmtest.mailbox(env.add_user("dirq@example.test", "pw"))
    os.makedirs(os.path.join(md, ".qmail", "new"))
    boxes["dirq"] = md
    # a 1000-byte quota: a 2 KB message is over it whatever else arrives
    # (each check is usage + size; parallel deliveries cannot race past
    # it), a small one is not
    for name, dq in (("junkq", "./.Junk/\n"), ("topq", "./\n")):
        md = pmtest.mailbox(env.add_user("%s@example.test" % name, "pw", quota=1000))
        write_dq(md, dq)
        boxes[name] = md
    big = b"Subject: big\n\n" + (b"y" * 70 + b"\n") * 30
    for name in ("empty", "comments", "dirq"):
        t.eq(queue_add(env, "sender@example.test", [name + "@example.test"], b"Subject: " + name.encode() + b"\n\nhi\n"),
             0, "%s: queued for %s" % (mode, name))
    for name in ("junkq", "topq"):
        for data in (big, b"Subject: small\n\nhi\n"):
            t.eq(queue_add(env, "sender@example.test", [name + "@example.test"], data), 0,
                 "%s: queued for %s" % (mode, name))
    extra = {}
    if mode == "exec":
        extra["PIPEMAIL_DELIVER"] = pmtest.bin("deliver-maildir")
    log = env.path("qr.log")
    qr = env.start([pmtest.bin("queue-run"), "-b", "1000", "-m", "1000"], stderr=open(log, "wb"), env=extra)

    def text():
        return open(log, "rb").read().decode(errors="replace")

    def status(name):
        return re.findall(r"rcpt=%s@example.test channel=local status=(\w+)" % name, text())

    t.ok(wait_for(lambda: all(status(n) for n in ("empty", "comments", "dirq"))
                  and len(status("junkq")) >= 2 and len(status("topq")) >= 2, 20), mode + ": every recipient tried", text())
    for name in ("empty", "comments", "dirq"):
        t.eq(status(name)[:1], ["ok"], "%s: %s delivered" % (mode, name))
        t.eq(len(files_in(boxes[name])), 1, "%s: %s: the message is in the Maildir itself" % (mode, name))
    junk = os.path.join(boxes["junkq"], ".Junk")
    t.eq(len(files_in(junk)), 1, "%s: ./.Junk/ under a 1000-byte quota: the small message filed, the 2 KB one not" % mode)
    t.ok(all(b"small" in open(os.path.join(junk, "new", f), "rb").read() for f in files_in(junk)), "%s: ... the small one" % mode)
    t.eq(sorted(status("junkq")), ["ok", "temp"], "%s: ... the big one deferred (over quota)" % mode)
    t.ok(os.path.exists(os.path.join(boxes["junkq"], "maildirsize")), "%s: ... counted in the Maildir's maildirsize" % mode)
    t.eq(len(files_in(boxes["topq"])), 1, "%s: ./ under the quota: the small message only" % mode)
    t.eq(sorted(status("topq")), ["ok", "temp"], "%s: ... the big one deferred" % mode)
    qr.terminate()
    t.eq(qr.wait(15), 0, mode + ": queue-run stopped")
t.done()
