#!/usr/bin/python3
# deliver-maildir -f: IMAP's INBOX (any case, RFC 3501 5.1) is the Maildir
# itself, and "INBOX.Junk" is the folder Junk, as Courier and Dovecot name
# Maildir++ folders: -f INBOX made a folder .INBOX that no POP3 or IMAP
# client ever shows, and the mail in it was never seen.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = {"SENDER": "alice@example.org", "RECIPIENT": "bob@example.test"}


def run(md, *opts):
    r = subprocess.run(pmtest.deliver_argv(md, *opts), input=b"Subject: x\n\nbody\n",
                       env=pmtest.deliver_env(**ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return r.returncode


def n(d, sub="new"):
    p = os.path.join(d, sub)
    return len(os.listdir(p)) if os.path.isdir(p) else -1


md = pmtest.mailbox(env.path("m1"), folders=("Junk",))
for name in ("INBOX", "inbox", "InBox"):
    before = n(md)
    rc = run(md, "-f", name)
    t.eq((rc, n(md) - before), (0, 1), "-f %s: into the Maildir's own new/" % name)
rc = run(md, "-c", "-f", "INBOX")
t.eq(rc, 0, "-c -f INBOX: delivered")
t.ok(not any(e.lower() == ".inbox" for e in os.listdir(md)), "no .INBOX folder made")
t.ok(not os.path.exists(os.path.join(md, "maildirfolder")), "-c -f INBOX: the Maildir is not marked as a folder")

rc = run(md, "-f", "INBOX.Junk")
t.eq((rc, n(md + "/.Junk")), (0, 1), "-f INBOX.Junk: into the folder Junk")
rc = run(md, "-c", "-f", "inbox.Lists.Work")
t.eq((rc, n(md + "/.Lists.Work")), (0, 1), "-c -f inbox.Lists.Work: the folder Lists.Work made and delivered to")
t.ok(os.path.isfile(md + "/.Lists.Work/maildirfolder"), "... with its maildirfolder file")
rc = run(md, "-c", "-f", "INBOXES")
t.eq((rc, n(md + "/.INBOXES")), (0, 1), "-f INBOXES: a folder of that name (INBOX only as a whole level)")
for bad in ("INBOX.", "INBOX..x", "INBOX./x", "INBOX.INBOX."):
    rc = run(md, "-c", "-f", bad)
    t.eq(rc, 100, "-f %r: an invalid folder name, 100" % bad)

# the quota still counts the whole Maildir
md = pmtest.mailbox(env.path("m2"))
rc = run(md, "-q", "1000000S", "-f", "INBOX")
t.eq(rc, 0, "-f INBOX with a quota: delivered")
with open(os.path.join(md, "maildirsize")) as f:
    lines = f.read().split("\n")
t.ok(len(lines) >= 3 and lines[-2].split()[1] == "1", "the delivery counted in maildirsize", lines)
t.done()
