#!/usr/bin/python3
"""smtp-send against scripted peers: per-recipient verdicts (250/550/451),
retry after 451, bare CR/LF never on the wire (I5), SMTP smuggling input,
dot-stuffing, long lines, SIZE, 8BITMIME, SMTPUTF8, DSN parameters, 421,
a peer that drops mid-DATA, timeouts, STARTTLS (opportunistic, required,
verified, reply injection discarded) and AUTH only inside TLS."""
import os, re, ssl, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
env = pmtest.Env(domains=())
conf = env.conf


def routes(text):
    with open(os.path.join(conf, "routes"), "w") as f:
        f.write(text)


def send(rcpts, msg=b"Subject: x\r\n\r\nbody\r\n", args=(), extra=None, sender="a@b.test", domain="example.org"):
    e = dict(env.env)
    if extra:
        e.update(extra)
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", sender, *args, domain, *rcpts], input=msg,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)
    lines = r.stdout.decode("utf-8", "replace").splitlines()
    return r.returncode, [l.split(" ", 4) for l in lines], r.stderr.decode(errors="replace")


def wire_clean(b):
    """no bare CR, no bare LF"""
    return re.search(rb"\r(?!\n)|(?<!\r)\n", b) is None


def peer(opts=None):
    p = SMTPPeer(opts)
    routes("example.org:[127.0.0.1]:%d\n" % p.port)
    return p


# --- per-recipient verdicts --------------------------------------------------
p = peer({"rcpt": {"bad@example.org": b"550 5.1.1 no such user", "later@example.org": b"451 4.3.0 try later"}})
rc, out, err = send(["good@example.org", "bad@example.org", "later@example.org"])
t.eq(rc, 111, "250/550/451: exit 111")
t.eq([(o[0], o[1], o[2], o[3]) for o in out],
     [("ok", "good@example.org", "2.0.0", "127.0.0.1"), ("perm", "bad@example.org", "5.1.1", "127.0.0.1"),
      ("temp", "later@example.org", "4.3.0", "127.0.0.1")], "250/550/451: one verdict per recipient, in order")
t.eq(out[1][4], "550 no such user", "reply text without the enhanced code")
t.eq(len(p.sessions[0]["data"]), 1, "the message went once, for the accepted recipient")
cmds = p.sessions[0]["cmds"]
t.eq(cmds[2:6], [b"RCPT TO:<good@example.org>", b"RCPT TO:<bad@example.org>", b"RCPT TO:<later@example.org>",
                 b"DATA"], "MAIL, RCPTs, DATA in order")
t.ok(cmds[1].startswith(b"MAIL FROM:<a@b.test> SIZE="), "SIZE announced", cmds[1])
p.close()

p = peer({"rcpt": {"x@example.org": b"550-5.1.1 first line\r\n550 5.1.1 second line"}})
rc, out, err = send(["x@example.org"])
t.eq(rc, 100, "all recipients refused: exit 100")
t.eq(out[0][4], "550 first line second line", "multi-line reply joined")
t.eq(p.sessions[0]["data"], [b""], "no recipient accepted, DATA got 354 anyway: an empty message ends it (RFC 2920)")
p.close()

# 451 then 250: the second run delivers, exactly once
p = peer({"script": [{"rcpt": {"x@example.org": b"451 4.7.1 greylisted"}}, {}]})
rc1, out1, _ = send(["x@example.org"])
rc2, out2, _ = send(["x@example.org"])
t.eq((rc1, out1[0][0], rc2, out2[0][0]), (111, "temp", 0, "ok"), "451 then 250: temp, then ok")
t.eq(sum(1 for s in p.sessions for d in s["data"] if d), 1, "451 then 250: the message was transferred once")
p.close()

# IPv6: a route to [::1]
try:
    p6 = SMTPPeer({}, host="::1")
except OSError:
    p6 = None
if p6:
    routes("example.org:[::1]:%d\n" % p6.port)
    rc, out, err = send(["x@example.org"])
    t.eq((rc, out[0][3], len(p6.sessions[0]["data"])), (0, "::1", 1), "IPv6 route: delivered over ::1")
    p6.close()
else:
    t.ok(True, "# SKIP no IPv6 loopback")

# --- the bytes on the wire (I5) ------------------------------------------------
smuggle = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
           b"\r\n\x00.\r\n", b"\r\r\n.\r\r\n"]
msg = b"Subject: smuggle\n\nstart\n"
for i, s in enumerate(smuggle):
    msg += b"case %d" % i + s + b"MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\n"
msg += b".leading dot\n..two dots\n" + b"x" * 2500 + b"\nlast line, no newline"
p = peer()
rc, out, err = send(["x@example.org"], msg=msg)
t.eq(rc, 0, "smuggling input delivered as one message")
d = p.sessions[0]["data"][0] if p.sessions and p.sessions[0]["data"] else b""
t.ok(wire_clean(d), "no bare CR or LF on the wire", repr(d[:200]))
t.eq(len(p.sessions[0]["data"]), 1, "exactly one DATA transfer")
t.eq(sum(1 for c in p.sessions[0]["cmds"] if c.startswith(b"MAIL")), 1, "no smuggled MAIL reached the peer")
t.ok(b"\r\n..leading dot\r\n...two dots\r\n" in d, "leading dots doubled")
t.ok(all(len(l) <= 998 for l in d.split(b"\r\n")), "no line longer than 998 bytes")
t.ok(d.endswith(b"last line, no newline\r\n"), "unterminated last line closed with CRLF")
p.close()

# 250 recipients: transactions of at most 100 on one connection
p = peer()
many = ["r%d@example.org" % i for i in range(250)]
rc, out, _ = send(many)
t.eq((rc, sum(1 for o in out if o[0] == "ok")), (0, 250), "250 recipients: all accepted")
t.eq((p.nconn, len(p.sessions[0]["data"])), (1, 3), "250 recipients: three transactions on one connection")
t.eq([o[1] for o in out], many, "250 recipients: results in argument order")
p.close()

# --- extensions ----------------------------------------------------------------
p = peer({"ext": [b"PIPELINING", b"SIZE 100"]})
rc, out, _ = send(["x@example.org"], msg=b"Subject: big\r\n\r\n" + b"y" * 300 + b"\r\n")
t.eq((rc, out[0][0], out[0][2]), (100, "perm", "5.3.4"), "over the peer's SIZE: perm 5.3.4")
t.ok(not any(c.startswith(b"MAIL") for c in p.sessions[0]["cmds"]), "over SIZE: MAIL never sent")
p.close()

p = peer({"ext": [b"PIPELINING"]})
rc, out, _ = send(["x@example.org"], msg=b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n")
t.eq((rc, p.sessions[-1]["data"][-1:]),
     (0, [b"Subject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"]),
     "8-bit message, no 8BITMIME: sent made 7-bit (test 276)")
rc, out, _ = send(["x@example.org"], msg=b"Content-Transfer-Encoding: base64\r\n\r\ncaf\xc3\xa9\r\n")
t.eq((rc, out[0][0], out[0][2]), (100, "perm", "5.6.3"), "8-bit message that cannot be made 7-bit, no 8BITMIME: perm 5.6.3")
rc, out, _ = send(["\u00fc@example.org"])
t.eq((rc, out[0][0], out[0][2]), (100, "perm", "5.6.7"), "UTF-8 recipient, no SMTPUTF8: perm 5.6.7")
p.close()

p = peer({"ext": [b"PIPELINING", b"8BITMIME", b"SMTPUTF8", b"DSN"]})
rc, out, _ = send(["\u00fc@example.org", "y@example.org"], msg=b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n",
                  extra={"PIPEMAIL_DSN": "RET=HDRS ENVID=abc+2Bx\nNOTIFY=FAILURE,DELAY ORCPT=rfc822;u@example.org\n\n"})
t.eq(rc, 0, "8BITMIME + SMTPUTF8 + DSN peer: delivered")
cmds = p.sessions[0]["cmds"]
t.eq(cmds[1], b"MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bx", "MAIL parameters")
t.eq(cmds[2], "RCPT TO:<\u00fc@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;u@example.org".encode(), "RCPT DSN parameters")
t.eq(cmds[3], b"RCPT TO:<y@example.org>", "no DSN parameters for a recipient with an empty line")
# UTF-8 header fields (RFC 6532) ask for SMTPUTF8 where the peer has it;
# an 8-bit body alone does not
rc, out, _ = send(["y@example.org"], msg="Subject: caf\u00e9\r\n\r\nbody\r\n".encode())
t.eq((rc, p.sessions[1]["cmds"][1]), (0, b"MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8"),
     "UTF-8 header: SMTPUTF8 to a peer that has it")
rc, out, _ = send(["y@example.org"], msg="Subject: x\r\n\r\ncaf\u00e9\r\n".encode())
t.eq((rc, p.sessions[2]["cmds"][1]), (0, b"MAIL FROM:<a@b.test> BODY=8BITMIME"), "8-bit body only: no SMTPUTF8")
p.close()
p = peer({"ext": [b"PIPELINING", b"8BITMIME"]})
rc, out, _ = send(["y@example.org"], msg="Subject: caf\u00e9\n\nbody\n".encode())
t.eq((rc, p.sessions[0]["cmds"][1]), (0, b"MAIL FROM:<a@b.test> BODY=8BITMIME"),
     "UTF-8 header, peer without SMTPUTF8: sent as before, 8BITMIME")
p.close()

p = peer({"ext": [b"PIPELINING"]})
rc, out, err = send(["x@example.org"], extra={"PIPEMAIL_DSN": "RET=FULL\r\nMAIL FROM:<x>\n"})
t.eq(rc, 0, "malformed PIPEMAIL_DSN: still delivered")
t.eq(p.sessions[0]["cmds"][1], b"MAIL FROM:<a@b.test>", "peer without DSN: no DSN parameters, nothing injected")
p.close()

p = peer({"ext": [b"8BITMIME"]})
rc, out, _ = send(["x@example.org", "y@example.org"], msg=b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n")
t.eq(rc, 0, "no PIPELINING: delivered step by step")
p.close()

# --- failures --------------------------------------------------------------------
p = peer({"mail": b"421 4.3.2 shutting down"})
rc, out, _ = send(["x@example.org"])
t.eq((rc, out[0][0], out[0][2]), (111, "temp", "4.3.2"), "421 to MAIL: temp")
p.close()
p = peer({"hangup": "body"})
rc, out, _ = send(["x@example.org"], msg=b"Subject: x\r\n\r\n" + b"z" * 200000)
t.eq((rc, out[0][0]), (111, "temp"), "peer drops mid-DATA: temp")
p.close()
p = peer({"dot": b"554 5.7.1 spam"})
rc, out, _ = send(["x@example.org"])
t.eq((rc, out[0][0], out[0][2]), (100, "perm", "5.7.1"), "554 after the data: perm")
p.close()
p = peer({"silent": True})
t0 = time.monotonic()
rc, out, _ = send(["x@example.org"], args=("-w", "1"))
t.eq((rc, out[0][0]), (111, "temp"), "silent peer: temp after the timeout")
t.ok("timeout" in out[0][4], "silent peer: the reason says timeout", out)
p.close()
p = peer({"greeting": b"554 5.3.2 go away"})
rc, out, _ = send(["x@example.org"])
t.eq((rc, out[0][0], out[0][3]), (111, "temp", "127.0.0.1"), "554 greeting, no other host: temp")
p.close()

# --- STARTTLS and AUTH ---------------------------------------------------------------
cert = env.make_cert()
key = os.path.join(conf, "tls", "key.pem")
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, key)

p = peer({"starttls": sctx, "inject": b"421 4.7.0 injected before TLS\r\n"})
rc, out, err = send(["x@example.org"])
s = p.sessions[0]
t.ok(rc == 0, "opportunistic STARTTLS: delivered", err)
t.ok(s["tls"] and s["cmds"][1] == b"STARTTLS" and s["cmds"][2].startswith(b"EHLO"), "STARTTLS, then EHLO again", s["cmds"])
t.ok("tls=yes" in err, "session logged with tls=yes", err)
p.close()

p = peer({"starttls": "broken"})
rc, out, err = send(["x@example.org"])
t.eq((rc, p.nconn, len(p.sessions[-1]["data"])), (0, 2, 1), "opportunistic TLS, handshake fails: retried once in plaintext")
rc, out, err = send(["x@example.org"], args=("-T", "must"))
t.eq((rc, out[0][0]), (111, "temp"), "required TLS, handshake fails: temp, no plaintext retry")
p.close()

p = peer({"starttls": sctx})
routes("example.org:[127.0.0.1]:%d tls=verify\n" % p.port)
rc, out, err = send(["x@example.org"], args=("-C", cert))
t.ok(rc == 0, "tls=verify with the right CA: delivered", err)
rc, out, err = send(["x@example.org"], args=("-C", "/etc/ssl/certs/ca-certificates.crt"))
t.eq((rc, out[0][0]), (111, "temp"), "tls=verify with an unknown certificate: temp")
t.eq(sum(len(x["data"]) for x in p.sessions), 1, "nothing sent over the unverified connection")
p.close()

p = peer()
rc, out, err = send(["x@example.org"], args=("-T", "must"))
t.eq((rc, out[0][0], out[0][2]), (111, "temp", "4.7.4"), "-T must, no STARTTLS offered: temp 4.7.4")
t.eq(len(p.sessions[0]["data"]), 0, "-T must: nothing sent in plaintext")
p.close()

p = peer({"starttls": sctx, "ext": [b"PIPELINING", b"AUTH PLAIN LOGIN"]})
routes("example.org:[127.0.0.1]:%d tls=must auth=user@example.org:pa ss:word\n" % p.port)
rc, out, err = send(["x@example.org"])
t.ok(rc == 0, "AUTH PLAIN inside TLS: delivered", err)
t.eq(p.sessions[0]["auth"], b"\0user@example.org\0pa ss:word", "AUTH PLAIN credentials from the routes file")
t.ok("pa ss" not in err, "no password in the log")
p.close()
p = peer({"starttls": sctx, "ext": [b"AUTH LOGIN"]})
routes("example.org:[127.0.0.1]:%d tls=must auth=u:pw\n" % p.port)
rc, out, err = send(["x@example.org"])
t.eq((rc, p.sessions[0]["auth"]), (0, b"\0u\0pw"), "AUTH LOGIN when PLAIN is not offered")
p.close()
p = peer({"starttls": sctx, "ext": [b"AUTH PLAIN"], "authreply": b"535 5.7.8 bad"})
routes("example.org:[127.0.0.1]:%d tls=must auth=u:pw\n" % p.port)
rc, out, err = send(["x@example.org"])
t.eq((rc, out[0][0]), (111, "temp"), "AUTH refused: temp (a configuration problem, retried)")
p.close()
p = peer({"starttls": sctx, "ext": [b"AUTH PLAIN"]})
routes("example.org:[127.0.0.1]:%d auth=u:pw\n" % p.port)
rc, out, err = send(["x@example.org"])
t.eq((rc, out[0][0]), (111, "temp"), "credentials without tls=: the certificate must verify (self-signed here): temp")
cmds = [c for x in p.sessions for c in x["cmds"]]
t.ok(not any(c.startswith(b"AUTH") for c in cmds), "no AUTH to an unverified host", cmds)
p.close()
p = peer({"ext": [b"AUTH PLAIN"]})
routes("example.org:[127.0.0.1]:%d tls=no auth=u:pw\n" % p.port)
rc, out, err = send(["x@example.org"])
t.eq((rc, out[0][0]), (111, "temp"), "credentials but no TLS: temp")
t.ok(not any(c.startswith(b"AUTH") for c in p.sessions[0]["cmds"]), "no AUTH in plaintext")
p.close()

# --- address literals (RFC 5321 4.1.3): that address, no DNS ---------------------
p = peer()
routes("")
rc, out, err = send(["x@[127.0.0.1]"], args=("-p", str(p.port), "-T", "no"), domain="[127.0.0.1]")
t.eq((rc, out[0][0] if out else None, len(p.sessions)), (0, "ok", 1), "x@[127.0.0.1]: delivered to that address")
for bad in ("[300.1.1.1]", "[127.0.0.1", "[IPv6:127.0.0.1]", "[]"):
    rc, out, err = send(["x@" + bad], args=("-p", str(p.port)), domain=bad)
    t.eq((rc, out[0][0] if out else None, out[0][2] if out else None), (100, "perm", "5.1.2"), "%s: malformed literal, perm" % bad)
p.close()

# --- batch mode (-B): one connection for several messages -----------------------
with open(env.path("m1"), "wb") as f:
    f.write(b"HEADERSTUFF" + b"Subject: one\n\nfirst\n" + b"TRAILER")
with open(env.path("m2"), "wb") as f:
    f.write(b"Subject: two\n\nsecond\n")


def batch(lines, args=()):
    r = subprocess.run([pmtest.bin("smtp-send"), "-B", *args], input="".join(lines).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


p = peer({"rcpt": {"bad@example.org": b"550 5.1.1 no"}})
m1 = "%s:11:20" % env.path("m1")
rc, out, err = batch(["%s example.org a@b.test x@example.org\n" % m1,
                      "%s example.org <> y@example.org bad@example.org\n" % env.path("m2"),
                      "%s example.org a@b.test z@example.org\n" % env.path("m2")])
t.eq(rc, 111, "batch: exit 111 when some recipient failed")
blocks = [b.splitlines() for b in out.split(".\n")[:-1]]
t.eq([[l.split(" ")[0] + " " + l.split(" ")[1] for l in b] for b in blocks],
     [["ok x@example.org"], ["ok y@example.org", "perm bad@example.org"], ["ok z@example.org"]],
     "batch: results per job, each ended by a dot line")
t.eq(p.nconn, 1, "batch: three messages over one connection")
t.eq([d for d in p.sessions[0]["data"]], [b"Subject: one\r\n\r\nfirst\r\n", b"Subject: two\r\n\r\nsecond\r\n",
                                          b"Subject: two\r\n\r\nsecond\r\n"], "batch: OFFSET:LENGTH honoured")
t.ok(any(c.startswith(b"MAIL FROM:<>") for c in p.sessions[0]["cmds"]), "batch: <> is the null sender")
t.ok("msgs=3" in err, "batch: one session log line for three messages", err)
p.close()

p = peer({"close_after_dot": True})
rc, out, err = batch(["%s example.org a@b.test x@example.org\n" % env.path("m2")] * 3)
t.eq((rc, out.count("ok x@example.org")), (0, 3), "batch: a peer that drops the cached connection: all delivered")
t.eq((p.nconn, sum(len(s["data"]) for s in p.sessions)), (3, 3), "batch: a fresh connection each time, no duplicate")
p.close()

p = peer({"mail": b"452 4.3.1 full", "data": b"554 5.5.1 no valid recipients"})
rc, out, err = batch(["%s example.org a@b.test x@example.org\n" % env.path("m2")] * 2)
t.ok(rc == 111 and out.count("temp x@example.org") == 2, "batch: MAIL refused twice on one connection", out)
t.ok(any(c == b"RSET" for c in p.sessions[0]["cmds"]), "batch: RSET after a refused transaction")
p.close()

# batch: each job's header scanned anew, from its OFFSET
with open(env.path("m4"), "wb") as f:
    f.write("XSubject: caf\u00e9\n\nbody\n".encode())
p = peer({"ext": [b"PIPELINING", b"8BITMIME", b"SMTPUTF8"]})
rc, out, err = batch(["%s:1:%d example.org a@b.test x@example.org\n" % (env.path("m4"), os.path.getsize(env.path("m4")) - 1),
                      "%s example.org a@b.test x@example.org\n" % env.path("m2")])
t.eq([c for c in p.sessions[0]["cmds"] if c.startswith(b"MAIL")] if p.sessions else None,
     [b"MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8", b"MAIL FROM:<a@b.test>"],
     "batch: SMTPUTF8 for the job with a UTF-8 header only")
p.close()

# a queue directory may have a ':' in its name: OFFSET:LENGTH are the last two fields
os.mkdir(env.path("spool:1"))
with open(env.path("spool:1", "m3"), "wb") as f:
    f.write(b"HEADERSTUFF" + b"Subject: three\n\nthird\n" + b"TRAILER")
p = peer()
rc, out, err = batch(["%s:11:22 example.org a@b.test x@example.org\n" % env.path("spool:1", "m3"),
                      "%s example.org a@b.test x@example.org\n" % env.path("spool:1", "m3")])
t.eq((rc, out.count("ok x@example.org")), (0, 2), "batch: a FILE with ':' in its path, with and without OFFSET:LENGTH")
t.eq(p.sessions[0]["data"][:1] if p.sessions else None, [b"Subject: three\r\n\r\nthird\r\n"], "batch: its OFFSET:LENGTH honoured")
p.close()

p = peer()
rc, out, err = batch(["DSN\n", "%s example.org a@b.test x@example.org\n" % env.path("m2")])
t.eq((rc, out.split("\n").count("."), out.count("ok x@example.org")), (0, 1, 1), "batch: a bare DSN line is no job: one answer")
p.close()
rc, out, err = batch(["/nonexistent example.org a@b.test x@example.org\n", "short line\n"])
t.eq(out, "temp x@example.org 4.3.0 - unable to read the message file /nonexistent: No such file or directory\n.\n.\n", "batch: unreadable file, bad line")

t.done()
