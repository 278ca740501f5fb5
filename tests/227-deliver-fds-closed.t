#!/usr/bin/python3
# deliver-maildir started with a standard descriptor closed. With stdin
# closed, the file made in tmp/ got descriptor 0, the message was "read"
# from that empty file, and a message of nothing but the Return-Path and
# Delivered-To lines was delivered with exit 0: the real message was
# never read and its sender was told it was delivered. Now no message on
# stdin is a temporary failure (111) with nothing delivered. With stdout
# or stderr closed the delivery is whole and its exit code right.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")
MSG = b"Subject: fds\n\nthe body\n"
TOP = b"Return-Path: <a@example.org>\nDelivered-To: b@example.test\n"


def run(md, close, data=MSG, opts=()):
    def pre():
        for fd in close:
            os.close(fd)
    r = subprocess.run(pmtest.deliver_argv(md, *opts), input=None if 0 in close else data, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pre, timeout=30)
    return r.returncode


def files(md, sub="new"):
    return [open(os.path.join(md, sub, n), "rb").read() for n in sorted(os.listdir(os.path.join(md, sub)))]


md = pmtest.mailbox(env.path("in"))
t.eq(run(md, (0,)), 111, "stdin closed: 111")
t.eq((files(md), files(md, "tmp")), ([], []), "stdin closed: nothing delivered, tmp/ empty")
t.eq(run(md, (0,), opts=("-c", "-f", "Junk")), 111, "stdin closed, into a folder: 111")
t.eq(run(md, (0, 2)), 111, "stdin and stderr closed: 111")
t.eq(files(md), [], "... nothing delivered")

for name, close in (("stdout", (1,)), ("stderr", (2,)), ("stdout and stderr", (1, 2))):
    md = pmtest.mailbox(env.path("out-" + name.replace(" ", "-")))
    t.eq(run(md, close), 0, name + " closed: delivered, 0")
    t.eq(files(md), [TOP + MSG], name + " closed: the whole message, once")
t.done()
