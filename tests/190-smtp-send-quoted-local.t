#!/usr/bin/python3
"""smtp-send and quoted local parts (RFC 5321 4.1.2 Quoted-string):

- "a b"@remote.test, as recipient or sender, goes on the wire byte for
  byte, from the command line and from a batch line alike; a batch line's
  address field runs to its closing quote (a backslash pair does not close
  it), so its blank does not split it;
- its result line prints it as it is, one field;
- a malformed address (a tab or a blank outside quotes, an unclosed quote,
  a backslash at the end, a stray quote) fails 5.1.3 before the wire and
  is printed with '?' for each blank, control byte and quote, one field;
- on a batch line, an unclosed quote ends nothing (the field ends at the
  blank), and a line with a NUL runs no job;
- a recipient must also be one RFC 5321 Mailbox, as sendmail and
  smtp-recv take it (smtpaddr_mailbox_ok): "a@@x", "a..b@x", "@x", one
  without a domain fail 5.1.3 before the wire (they were sent before); a
  domain that is the job's own is the route's to judge (5.1.2)."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
msg = env.path("m")
with open(msg, "wb") as f:
    f.write(b"Subject: x\n\nbody\n")
p = SMTPPeer({})
routes = env.path("routes")
with open(routes, "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % p.port)


def field(s):
    """smtpaddr_field: the first field of s (bytes)"""
    i = 0
    if s[:1] == b'"':
        j = 1
        while j < len(s):
            if s[j:j + 1] == b"\\" and j + 1 < len(s) and 32 <= s[j + 1] <= 126:
                j += 2
            elif s[j:j + 1] == b'"':
                i = j + 1
                break
            elif s[j] < 32 or s[j] == 127:
                break
            else:
                j += 1
    n = s.find(b" ", i)
    return s if n < 0 else s[:n]


def results(out):
    """[(status, rcpt, enhanced)] from result lines"""
    r = []
    for l in out.split(b"\n"):
        if not l or l == b".":
            continue
        st, rest = l.split(b" ", 1)
        rc = field(rest)
        enh = rest[len(rc) + 1:].split(b" ")[0]
        r.append((st.decode(), rc.decode(), enh.decode()))
    return r


def wire(n):
    """the MAIL (without parameters) and RCPT commands of session n"""
    cmds = p.sessions[n]["cmds"] if n < len(p.sessions) else []
    return [c.split(b" SIZE=")[0] for c in cmds if c[:4] in (b"MAIL", b"RCPT")]


# the command line
with open(msg, "rb") as m:
    r = env.run(["smtp-send", "-r", routes, "-f", '"s s"@x.test', "remote.test", '"a b"@remote.test',
                 "ok@remote.test", "a\tb@remote.test", '"a\\b c"@remote.test', '"ab\\', '"x"y@remote.test',
                 '"v w'], input=m.read(), check=False)
t.eq(r.returncode, 111, "some delivered, some refused: exit 111")
t.eq(results(r.stdout), [("ok", '"a b"@remote.test', "2.0.0"), ("ok", "ok@remote.test", "2.0.0"),
                         ("perm", "a?b@remote.test", "5.1.3"), ("ok", '"a\\b c"@remote.test', "2.0.0"),
                         ("perm", '?ab\\', "5.1.3"), ("perm", "?x?y@remote.test", "5.1.3"),
                         ("perm", "?v?w", "5.1.3")],
     "argv: quoted ones delivered and printed as they are, malformed ones refused 5.1.3, printed with '?'")
t.eq(r.stdout.count(b"\n"), 7, "one line each")
t.eq(wire(0), [b'MAIL FROM:<"s s"@x.test>', b'RCPT TO:<"a b"@remote.test>', b"RCPT TO:<ok@remote.test>",
               b'RCPT TO:<"a\\b c"@remote.test>'], "argv: byte for byte on the wire")

# a batch
lines = (b'%s remote.test "s s"@x.test "a b"@remote.test "q\\"r s"@remote.test ok@remote.test\n'
         b'%s remote.test <> "x y@remote.test ok2@remote.test\n'
         b'%s remote.test <> a@remote.test\0 b@remote.test\n'
         b'%s remote.test <> "a\tb"@remote.test c@remote.test\n'
         b'%s remote.test <> "a b" d@remote.test\n') % ((msg.encode(),) * 5)
r = env.run(["smtp-send", "-B", "-r", routes, "-w", "10"], input=lines, check=False)
jobs = r.stdout.split(b".\n")
t.eq(len(jobs), 6, "-B: five answers")
jobs += [b""] * 6
t.eq(results(jobs[0]), [("ok", '"a b"@remote.test', "2.0.0"), ("ok", '"q\\"r s"@remote.test', "2.0.0"),
                        ("ok", "ok@remote.test", "2.0.0")], "-B: quoted fields whole, printed as they are")
t.eq(results(jobs[1]), [("perm", "?x", "5.1.3"), ("ok", "y@remote.test", "2.0.0"), ("ok", "ok2@remote.test", "2.0.0")],
     "-B: an unclosed quote ends at the blank, refused")
t.eq(jobs[2], b"", "-B: a line with a NUL: no job")
t.eq(results(jobs[3]), [("perm", "?a?b?@remote.test", "5.1.3"), ("ok", "c@remote.test", "2.0.0")],
     "-B: a tab inside quotes: refused")
t.eq(results(jobs[4]), [("perm", '"a b"', "5.1.3"), ("ok", "d@remote.test", "2.0.0")],
     "-B: a quoted address without a domain: one field (refused: no Mailbox, test 238)")
t.ok(b"want FILE DOMAIN" in r.stderr, "-B: the NUL line said so", r.stderr.decode(errors="replace"))
t.eq(wire(1), [b'MAIL FROM:<"s s"@x.test>', b'RCPT TO:<"a b"@remote.test>', b'RCPT TO:<"q\\"r s"@remote.test>',
               b"RCPT TO:<ok@remote.test>", b"MAIL FROM:<>", b"RCPT TO:<y@remote.test>", b"RCPT TO:<ok2@remote.test>",
               b"MAIL FROM:<>", b"RCPT TO:<c@remote.test>", b"MAIL FROM:<>", b"RCPT TO:<d@remote.test>"], "-B: byte for byte on the wire, one connection")

# RFC 5321 Mailboxes only
BAD = ["a@@remote.test", "a..b@remote.test", ".a@remote.test", "a.@remote.test", "@remote.test", "a@",
       "a@remote..test", "a@-x.test", "a@[300.1.1.1]", "postmaster", "a@b@remote.test"]
GOOD = ["ok@remote.test", "OK2@REMOTE.TEST", '"a.b"@remote.test', '"a\\b"@remote.test', "x@other.test",
        "y@[127.0.0.1]", "z@r-1.test"]
with open(msg, "rb") as m:
    r = env.run(["smtp-send", "-r", routes, "-f", "s@x.test", "remote.test", *GOOD, *BAD], input=m.read(), check=False)
t.eq(r.returncode, 111, "Mailboxes: some delivered, some refused: exit 111")
t.eq(results(r.stdout), [("ok", a, "2.0.0") for a in GOOD] + [("perm", a, "5.1.3") for a in BAD],
     "Mailboxes: the good ones delivered, each malformed one refused 5.1.3")
t.eq(wire(2)[1:], [b"RCPT TO:<%s>" % a.encode() for a in GOOD], "Mailboxes: only the good ones on the wire")
line = b"%s remote.test <> a@@remote.test b@remote.test a@x..y\n" % msg.encode()
r = env.run(["smtp-send", "-B", "-r", routes, "-w", "10"], input=line, check=False)
t.eq(results(r.stdout), [("perm", "a@@remote.test", "5.1.3"), ("ok", "b@remote.test", "2.0.0"),
                         ("perm", "a@x..y", "5.1.3")], "Mailboxes: -B the same")
t.eq(wire(3), [b"MAIL FROM:<>", b"RCPT TO:<b@remote.test>"], "Mailboxes: -B only the good one on the wire")
with open(msg, "rb") as m:
    r = env.run(["smtp-send", "-r", routes, "[300.1.1.1]", "a@[300.1.1.1]"], input=m.read(), check=False)
t.eq(results(r.stdout), [("perm", "a@[300.1.1.1]", "5.1.2")], "a malformed job domain: still 5.1.2")
p.close()
t.done()
