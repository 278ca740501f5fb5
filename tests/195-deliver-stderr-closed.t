#!/usr/bin/python3
# deliver-maildir logs its delivery on stderr after the commit. A caller
# that no longer reads stderr (a closed pipe) must still get the exit code
# that tells what happened: killed by SIGPIPE at that log line, a message
# already in new/ was reported as a failure, and delivered again on the
# retry. The same for a failure's one fatal line: 100 stays 100.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Scratch()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="b@example.test")


def run(md, data, *opts):
    r, w = os.pipe()
    os.close(r)   # nobody reads stderr
    try:
        p = subprocess.run(pmtest.deliver_argv(md, *opts), input=data, env=ENV, stdout=subprocess.DEVNULL,
                           stderr=w, timeout=60)
    finally:
        os.close(w)
    return p.returncode


md = pmtest.mailbox(env.path("Maildir"))
rc = run(md, b"Subject: closed\r\n\r\nbody\r\n")
t.eq(rc, 0, "delivered with stderr closed: exit 0, not a death by SIGPIPE")
t.eq(len(os.listdir(md + "/new")), 1, "one message in new/")
rc = run(md, b"Delivered-To: b@example.test\r\nSubject: loop\r\n\r\nbody\r\n")
t.eq(rc, 100, "a mail loop with stderr closed: still 100")
t.eq(len(os.listdir(md + "/new")), 1, "and nothing more in new/")
t.done()
