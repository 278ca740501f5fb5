#!/usr/bin/python3
# The original of a report is capped (256 KB without RET): past the cap
# only its header goes back. A header longer than the cap (a To: field
# naming thousands, in UTF-8) was cut at the cap's byte, inside a line
# and here inside a UTF-8 character, so the message/global-headers part
# decoded to a broken last line with invalid UTF-8. Now what goes back
# ends with a whole line.
import base64, email, email.policy, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

CAP = 256 * 1024
t = pmtest.TAP()
env = pmtest.Env()
snd = env.add_user("sender@example.test", "pw")
head = "From: sender@example.test\nSubject: many\nTo: "
line = "\"J\u00fcrgen \u00dcnal\" <j@example.org>,\n "


def original(pad):
    return (head + "x" * pad + ",\n " + line * (CAP // len(line.encode()) + 40) + "<last@example.org>\n\nbody\n").encode()


# the cap's last byte the first of a "\u00fc"
msg = next(m for m in map(original, range(len(line.encode()))) if m[CAP - 1:CAP + 1] == "\u00fc".encode())
t.eq(pmtest.queue_add(env, "sender@example.test", ["nobody@example.test"], msg), 0, "queued")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=open(env.path("qr.log"), "wb"))
got = pmtest.wait_for(lambda: pmtest.maildir_files(snd), 20)
qr.terminate()
t.eq(qr.wait(15), 0, "queue-run stopped")
raw = open(got[0], "rb").read() if got else b""
m = email.message_from_bytes(raw, policy=email.policy.default)
parts = list(m.iter_parts())
t.eq([(p.get_content_type(), p["Content-Transfer-Encoding"]) for p in parts[2:]],
     [("message/global-headers", "base64")], "the header only, in base64")
b64 = raw.split(b"Content-Transfer-Encoding: base64\n\n", 1)[-1].split(b"\n\n--", 1)[0]
back = base64.b64decode(b64) if parts[2:] else b""
t.ok(back.startswith(msg[:100]) and len(back) <= CAP, "its start, within the cap", len(back))
try:
    text = back.decode("utf-8")
    t.ok(True, "valid UTF-8")
except UnicodeDecodeError as e:
    text = ""
    t.ok(False, "valid UTF-8", e)
t.ok(back.endswith(b"\n") and back.split(b"\n")[-2] in (line.encode().rstrip(b"\n"), b" " + line.encode().strip()),
     "ending with a whole line", back[-80:])
t.done()
