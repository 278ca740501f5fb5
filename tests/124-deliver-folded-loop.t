#!/usr/bin/python3
# deliver-maildir: the Delivered-To loop check reads header fields, not
# physical lines: a Delivered-To field folded onto a continuation line (as
# a relay that refolds headers writes it) is the same field, and a message
# coming back with ours folded is a loop (exit 100, nothing delivered).
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = {"SENDER": "alice@example.org", "RECIPIENT": "bob@example.test"}


def run(md, data, **kw):
    e = pmtest.deliver_env(**ENV)
    e.update(kw)
    r = subprocess.run(pmtest.deliver_argv(md), input=data, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return r.returncode


def new(md):
    return len(os.listdir(os.path.join(md, "new")))


md = pmtest.mailbox(env.path("m"))
for data, what in (
        (b"Received: x\nDelivered-To:\n  bob@example.test\nSubject: x\n\nbody\n", "value on a continuation line"),
        (b"Delivered-To:\r\n\tBOB@example.test\r\nSubject: x\r\n\r\nbody\r\n", "CRLF, tab, other case"),
        (b"Subject: x\nDelivered-To:\n bob@example.test\n", "the header's last field, no body"),
        (b"Subject: x\nDelivered-To:\n bob@example.test\n\n", "the header's last field, then the blank line"),
        (b"Subject: x\nDelivered-To:\n \n  bob@example.test  \n\nbody\n", "over two continuation lines"),
        (b"Subject: x\nDelivered-To: bob@example.test", "unfolded, the input's last bytes, no newline"),
):
    rc = run(md, data)
    t.eq((rc, new(md)), (100, 0), "folded Delivered-To (%s): a loop, 100, nothing delivered" % what)

# not loops: another address folded, the field with more on a continuation,
# a folded field followed by ours in the body
for data, what in (
        (b"Delivered-To:\n other@example.test\n\nbody\n", "another address, folded"),
        (b"Subject: x\n\nDelivered-To:\n bob@example.test\n", "folded in the body"),
        (b"X-Delivered-To:\n bob@example.test\n\nbody\n", "a look-alike field, folded"),
):
    n = new(md)
    rc = run(md, data)
    t.eq((rc, new(md) - n), (0, 1), "%s: delivered" % what)
# the unfolded field is still found after a folded one
rc = run(md, b"Received: from a\n\tby b\nDelivered-To: bob@example.test\n\nbody\n")
t.eq(rc, 100, "a plain Delivered-To after a folded field: still a loop")
t.done()
