#!/usr/bin/python3
# deliver-maildir over a deterministic sample of 500 corpus messages: each
# delivered file is exactly the two envelope lines followed by the input
# with CRLF turned into LF (a last line ended), and its name carries the
# right ,S= and ,W=.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
sample = pmtest.corpus_sample(500)
if not sample:
    t.skip_all("no corpus in ../shared/corpus")
env = pmtest.Scratch()
md = pmtest.mailbox(env.path("Maildir"))
argv = pmtest.deliver_argv(md)
bad_rc, bad_bytes, bad_name = [], [], []
seen = set()
for i, path in enumerate(sample):
    with open(path, "rb") as f:
        data = f.read()
    e = pmtest.deliver_env(SENDER="s%d@example.org" % i, RECIPIENT="r%d@example.test" % i)
    r = subprocess.run(argv, input=data, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0:
        bad_rc.append((path, r.returncode, r.stderr[:200]))
        continue
    new = [n for n in os.listdir(md + "/new") if n not in seen]
    if len(new) != 1:
        bad_name.append((path, new))
        continue
    name = new[0]
    seen.add(name)
    with open(os.path.join(md, "new", name), "rb") as f:
        got = f.read()
    body = data.replace(b"\r\n", b"\n")
    if body and not body.endswith(b"\n"):   # a last line gets its end; a final CR becomes it
        body = body[:-1] + b"\n" if body.endswith(b"\r") else body + b"\n"
    want = b"Return-Path: <s%d@example.org>\nDelivered-To: r%d@example.test\n" % (i, i) + body
    if got != want:
        bad_bytes.append(path)
    # W=: what a POP3 RETR sends, every LF not after a CR gaining one
    if not name.endswith(",S=%d,W=%d" % (len(want), len(want) + want.count(b"\n") - want.count(b"\r\n"))):
        bad_name.append((path, name))
t.eq(bad_rc, [], "%d corpus messages delivered with exit 0" % len(sample))
t.eq(bad_bytes, [], "every delivered file is the two lines plus the input with LF line ends, byte for byte")
t.eq(bad_name, [], "every name has ,S=<size>,W=<size with CRLF>")
t.eq(len(os.listdir(md + "/new")), len(sample), "one file per delivery")
t.eq(os.listdir(md + "/tmp"), [], "tmp/ is empty")
t.done()
