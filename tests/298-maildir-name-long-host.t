#!/usr/bin/python3
# A Maildir file name stays within NAME_MAX (255) whatever the host is
# called. The host part escapes '/', ':', ',' and odd bytes as \ooo, four
# bytes each: a host name of 64 (HOST_NAME_MAX) such bytes made a name of
# 256 bytes and more, and every delivery failed (111, ENAMETOOLONG) for as
# long as the host kept that name. The escaped host is cut now, at a budget
# that leaves room for the widest time, pid, counter, random, ,S= and ,W=
# parts and a reader's flags, and never inside an escape; a host name
# with nothing to escape is never cut. Each delivery runs in its own UTS
# namespace (unshare -u) with the host name set there.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files

t = pmtest.TAP()
if os.getuid() != 0:
    t.skip_all("needs root for a UTS namespace whose processes may drop to the mailbox owner")
if subprocess.run(["unshare", "-u", "true"]).returncode != 0:
    t.skip_all("no UTS namespace here")

# set the host name in the new namespace, then become deliver-maildir
SETHOST = "import os, socket, sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])"
BUDGET = 72   # 255 - 183 (lib/maildir.c NAME_FIXED)

env = pmtest.Env()
ENV = pmtest.deliver_env(SENDER="a@example.org", RECIPIENT="u@example.test")


def deliver(md, host, body):
    return subprocess.run(["unshare", "-u", sys.executable, "-c", SETHOST, host] + pmtest.deliver_argv(md),
                          input=b"Subject: long host\n\n" + body + b"\n", env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=60)


def host_part(path):
    """the host in a name SECONDS.M<usec>P<pid>Q<n>.HOST,S=...,W=..."""
    return os.path.basename(path).split(",S=")[0].split(".", 2)[2]


cases = (
    ("64 ':'", ":" * 64, "\\072" * (BUDGET // 4)),
    ("64 '/'", "/" * 64, "\\057" * (BUDGET // 4)),
    # 2 + 17 escapes is 70 bytes; an 18th would end past 72: cut before it
    ("2 letters then 62 ','", "aa" + "," * 62, "aa" + "\\054" * 17),
    ("63 letters then ':'", "h" * 63 + ":", "h" * 63 + "\\072"),
    ("64 letters", "x" * 64, "x" * 64),
)
for n, (what, host, want) in enumerate(cases):
    md = env.add_user("u%d@example.test" % n, "pw")
    codes, errs = [], b""
    for i in range(2):
        r = deliver(md, host, b"message %d" % i)
        codes.append(r.returncode)
        errs += r.stderr
    t.ok(codes == [0, 0], "host of %s: two deliveries, each 0" % what, "%r\n%s" % (codes, errs.decode(errors="replace")))
    files = maildir_files(md)
    t.eq(len(files), 2, "host of %s: two messages in new/" % what)
    names = [os.path.basename(f) for f in files]
    t.ok(all(len(x) <= 255 for x in names), "host of %s: names within NAME_MAX" % what, names)
    t.eq([host_part(f) for f in files], [want, want], "host of %s: the host part, whole escapes only" % what)
    t.eq(os.listdir(md + "/tmp"), [], "host of %s: tmp/ empty" % what)

t.done()
