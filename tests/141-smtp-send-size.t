#!/usr/bin/python3
"""smtp-send's SIZE (RFC 1870) counts the message as it goes on the wire:
CRLF line ends, folded long lines, a closed last line, without the dots
doubled. The queue stores LF line ends, so the file's size was short of
what was sent by one byte a line: SIZE= announced too little, and a
message over the peer's limit on the wire but not in the file was sent
anyway ("never send what the peer refused")."""
import os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())


def peer(limit):
    p = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SIZE %d" % limit]})
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write("example.org:[127.0.0.1]:%d tls=no\n" % p.port)
    return p


def send(msg):
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "10", "example.org", "x@example.org"],
                       input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.returncode, r.stdout.decode().split(" ", 4)


def batch(msg):
    path = env.path("m")
    with open(path, "wb") as f:
        f.write(b"ENVELOPE" + msg + b"TRAILER")
    r = subprocess.run([pmtest.bin("smtp-send"), "-B", "-w", "10"],
                       input=("%s:8:%d example.org a@b.test x@example.org\n" % (path, len(msg))).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.returncode, r.stdout.decode().split(" ", 4)


def announced(p):
    m = [re.search(rb" SIZE=(\d+)", c) for c in p.sessions[-1]["cmds"] if c.startswith(b"MAIL")]
    return int(m[0].group(1)) if m and m[0] else None


msgs = {
    "LF line ends": b"Subject: x\n\n" + b"line\n" * 40,
    "CRLF line ends": b"Subject: x\r\n\r\n" + b"line\r\n" * 40,
    "lone CRs": b"Subject: x\r\r" + b"line\r" * 40,
    "leading dots": b"Subject: x\n\n.\n..\n.x\n" * 5,
    "a 2,500-byte line": b"Subject: x\n\n" + b"y" * 2500 + b"\n",
    "no newline at the end": b"Subject: x\n\nlast",
}
p = peer(10000000)
for name, msg in msgs.items():
    for how, run in (("stdin", send), ("-B", batch)):
        rc, out = run(msg)
        got = p.sessions[-1]["data"][-1] if p.sessions and p.sessions[-1]["data"] else b""
        # the peer keeps the data as it came: each line that starts with
        # a dot had one doubled, which SIZE does not count
        stuffed = sum(1 for l in got.split(b"\r\n") if l.startswith(b"."))
        t.eq((rc, announced(p)), (0, len(got) - stuffed), "%s (%s): SIZE= is the size on the wire" % (name, how))
p.close()

# a message under 1,000 bytes in the file and over it on the wire
msg = b"Subject: x\n\n" + (b"x" * 31 + b"\n") * 30 + b"."
wire = len(msg.replace(b"\n", b"\r\n")) + 2
p = peer(1000)
for how, run in (("stdin", send), ("-B", batch)):
    rc, out = run(msg)
    t.eq((rc, out[0], out[2]), (100, "perm", "5.3.4"),
         "%d bytes in the file, %d on the wire, the peer's limit 1,000 (%s): 5.3.4" % (len(msg), wire, how))
t.eq(sum(len(s["data"]) for s in p.sessions), 0, "over the peer's SIZE on the wire: never sent")
p.close()
p = peer(wire)
rc, out = send(msg)
t.eq((rc, announced(p)), (0, wire), "the same with the limit at its wire size: sent, announced exactly")
p.close()
t.done()
