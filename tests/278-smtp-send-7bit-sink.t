#!/usr/bin/python3
"""smtp-send's 7-bit conversion against a real peer: Postfix's smtp-sink
with -8 (no 8BITMIME). A multipart message with 8-bit text and html and
a base64 attachment arrives accepted, 7-bit, and Python's email module
reads every part back as the original's (test 276 does the same against
the scripted peer)."""
import email, email.policy, glob, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, wait_port

SINK = "/usr/sbin/smtp-sink"
t = pmtest.TAP()
if not os.access(SINK, os.X_OK):
    t.skip_all("no %s (Debian package postfix)" % SINK)
env = pmtest.Env(domains=())
sink = env.path("sink")
os.mkdir(sink)
os.chmod(sink, 0o777)
port = pmtest.free_port()
user = ["-u", "nobody"] if os.getuid() == 0 else []   # smtp-sink insists on -u as root
sp = env.start([SINK, *user, "-8", "-d", os.path.join(sink, "%M."), "127.0.0.1:%d" % port, "10"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t.ok(wait_port(port), "smtp-sink -8 listening")
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("example.org:[127.0.0.1]:%d tls=no\n" % port)

msg = (b"From: a@b.test\nSubject: multi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o=1\"\n\n"
       b"--o=1\nContent-Type: multipart/alternative; boundary=i\n\n--i\nContent-Type: text/plain; charset=utf-8\n"
       b"Content-Transfer-Encoding: 8bit\n\n" + "Gr\u00fc\u00dfe \u2014 caf\u00e9 \n.\n".encode() +
       b"--i\nContent-Type: text/html; charset=utf-8\n\n" + "<p>\u00e9t\u00e9</p>\n".encode() +
       b"--i--\n--o=1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAwQF\n--o=1--\n")
r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "example.org", "x@example.org"], input=msg,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
t.eq((r.returncode, r.stdout.decode().split(" ")[0]), (0, "ok"), "accepted by the peer without 8BITMIME")
t.ok(b"conv=7bit" in r.stderr, "logged conv=7bit", r.stderr)
t.ok(wait_for(lambda: glob.glob(os.path.join(sink, "*")), 10), "the sink wrote the message")
files = glob.glob(os.path.join(sink, "*"))
raw = open(files[0], "rb").read() if files else b""
body = raw[raw.find(b"From: a@b.test"):]
t.ok(body and all(c < 0x80 for c in body), "7-bit as it arrived", body[:300])


def leaves(b):
    m = email.message_from_bytes(b, policy=email.policy.compat32)
    return [(p.get_content_type(), p.get_payload(decode=True)) for p in m.walk() if not p.is_multipart()]


want = leaves(msg)
got = leaves(body.rstrip(b"\n") + b"\n")
t.eq(got, want, "every part reads back as the original's")
sp.terminate()
sp.wait(10)
t.done()
