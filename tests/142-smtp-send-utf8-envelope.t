#!/usr/bin/python3
"""smtp-send, UTF-8 envelope addresses and a peer without SMTPUTF8
(RFC 6531 3.2): each address that has an ASCII form (an ASCII local part,
the domain in IDNA A-labels) goes in that form; a recipient without one
fails alone (5.6.7). It was: one UTF-8 recipient failed every recipient
of the message, ASCII ones too, and an ASCII mailbox at an IDN domain
bounced although the peer takes its A-label form. A peer with SMTPUTF8
gets the addresses as written."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
ascii_peer = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME"]})
utf8_peer = SMTPPeer({"ext": [b"PIPELINING", b"8BITMIME", b"SMTPUTF8"]})


def send(p, sender, rcpts, domain="example.org"):
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write("*:[127.0.0.1]:%d tls=no\n" % p.port)
    n = len(p.sessions)
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", sender, "-w", "10", domain, *rcpts],
                       input=b"Subject: x\n\nbody\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env.env, timeout=60)
    out = [l.split(" ", 4)[:3] for l in r.stdout.decode().splitlines()]
    env_cmds = [c.decode() for s in p.sessions[n:] for c in s["cmds"] if c[:4] in (b"MAIL", b"RCPT")]
    return r.returncode, out, env_cmds


jorg = "j\u00f6rg@example.org"
rc, out, cmds = send(ascii_peer, "a@b.test", ["alice@example.org", jorg])
t.eq(out, [["ok", "alice@example.org", "2.0.0"], ["perm", jorg, "5.6.7"]],
     "no SMTPUTF8: the ASCII recipient delivered, the UTF-8 local part alone fails 5.6.7")
t.eq(cmds, ["MAIL FROM:<a@b.test>", "RCPT TO:<alice@example.org>"], "no SMTPUTF8: no SMTPUTF8 parameter, no UTF-8 sent")

rc, out, cmds = send(ascii_peer, "a@b.test", ["alice@caf\u00e9.test"], domain="caf\u00e9.test")
t.eq((rc, out), (0, [["ok", "alice@caf\u00e9.test", "2.0.0"]]), "no SMTPUTF8: an ASCII mailbox at an IDN domain delivered")
t.eq(cmds, ["MAIL FROM:<a@b.test>", "RCPT TO:<alice@xn--caf-dma.test>"], "... as its A-label form")

rc, out, cmds = send(ascii_peer, "s@caf\u00e9.test", ["alice@example.org"])
t.eq((rc, cmds), (0, ["MAIL FROM:<s@xn--caf-dma.test>", "RCPT TO:<alice@example.org>"]),
     "no SMTPUTF8: a sender at an IDN domain goes as its A-label form")

rc, out, cmds = send(ascii_peer, "j\u00f6rg@b.test", ["alice@example.org", "bob@example.org"])
t.eq((rc, [o[0] + " " + o[2] for o in out], cmds), (100, ["perm 5.6.7"] * 2, []),
     "no SMTPUTF8: a sender with a UTF-8 local part fails every recipient, nothing sent")

rc, out, cmds = send(utf8_peer, "s@caf\u00e9.test", ["alice@example.org", jorg])
t.eq((rc, cmds), (0, ["MAIL FROM:<s@caf\u00e9.test> SMTPUTF8", "RCPT TO:<alice@example.org>", "RCPT TO:<%s>" % jorg]),
     "SMTPUTF8 offered: the addresses as written, with SMTPUTF8")
ascii_peer.close()
utf8_peer.close()
t.done()
