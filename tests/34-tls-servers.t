#!/usr/bin/python3
# The real servers under tls-serve: smtp-recv (STARTTLS and implicit,
# smtplib), pop-serve (STLS and implicit, poplib); the STARTTLS injection
# of THREATS I6 through the whole stack; and no STARTTLS offered when no
# wrapper is there.
import os, poplib, smtplib, socket, ssl, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import Lines

t = pmtest.TAP()
have = [n for n in ("smtp-recv", "pop-serve") if os.access(pmtest.bin(n), os.X_OK)]
if not have:
    t.skip_all("no smtp-recv or pop-serve built")
env = pmtest.Env(domains=())
ca = env.make_cert()
ctx = pmtest.tls_context(ca)

if "smtp-recv" in have:
    st = env.server(["tls-serve", pmtest.bin("smtp-recv"), "-r", "mx"])
    s = smtplib.SMTP("127.0.0.1", st, local_hostname="client.test", timeout=10)
    t.ok(s.ehlo()[0] == 250 and s.has_extn("starttls"), "smtp-recv under tls-serve offers STARTTLS")
    t.eq(s.starttls(context=ctx)[0], 220, "smtplib STARTTLS")
    s.ehlo()
    t.ok(s.sock.version() in ("TLSv1.3", "TLSv1.2") and not s.has_extn("starttls"), "EHLO again inside TLS")
    t.eq(s.noop()[0], 250, "NOOP inside TLS")
    s.quit()

    # I6: STARTTLS and EHLO in one write: the EHLO is answered neither in
    # plaintext nor inside TLS
    c = Lines(socket.create_connection(("127.0.0.1", st), 10))
    c.reply()
    c.cmd("EHLO client.test")
    c.send("STARTTLS\r\nEHLO injected.test\r\n")
    r = c.reply()
    t.ok(r and r[0].startswith("220"), "pipelined STARTTLS: 220", r)
    left = c.starttls(ctx)
    t.eq(left, b"", "no plaintext answer to the injected EHLO")
    r = c.cmd("NOOP")
    t.ok(r and r[0].startswith("250") and len(r) == 1, "first answer inside TLS is to NOOP", r)
    r = c.cmd("MAIL FROM:<a@example.org>")
    t.ok(r and r[0].startswith("503"), "session state reset: MAIL needs a new EHLO", r)
    c.cmd("QUIT")
    c.s.close()

    imp = env.server(["tls-serve", "-i", pmtest.bin("smtp-recv"), "-r", "submission"])
    s = smtplib.SMTP_SSL("127.0.0.1", imp, local_hostname="client.test", timeout=10, context=ctx)
    s.ehlo()
    t.ok(not s.has_extn("starttls") and s.has_extn("auth"), "implicit TLS: no STARTTLS, AUTH offered")
    s.quit()

    bare = env.server([pmtest.bin("smtp-recv"), "-r", "mx"])
    s = smtplib.SMTP("127.0.0.1", bare, local_hostname="client.test", timeout=10)
    s.ehlo()
    t.ok(not s.has_extn("starttls"), "no wrapper: smtp-recv offers no STARTTLS")
    s.quit()

if "pop-serve" in have:
    pt = env.server(["tls-serve", pmtest.bin("pop-serve")])
    p = poplib.POP3("127.0.0.1", pt, timeout=10)
    t.ok("STLS" in p.capa(), "pop-serve under tls-serve offers STLS")
    p.stls(context=ctx)
    t.ok(p.sock.version() in ("TLSv1.3", "TLSv1.2") and "STLS" not in p.capa(), "poplib STLS, CAPA again")
    p.quit()

    c = Lines(socket.create_connection(("127.0.0.1", pt), 10))
    c.line()
    c.send("STLS\r\nCAPA\r\n")
    r = c.line()
    t.ok(r and r.startswith("+OK"), "pipelined STLS: +OK", r)
    t.eq(c.starttls(ctx), b"", "no plaintext answer to the injected CAPA")
    c.send("NOOP\r\n")
    r = c.line()
    t.ok(r is not None and "capability" not in r.lower(), "first answer inside TLS is not CAPA's", r)
    c.s.close()

    pi = env.server(["tls-serve", "-i", pmtest.bin("pop-serve")])
    p = poplib.POP3_SSL("127.0.0.1", pi, timeout=10, context=ctx)
    t.ok("STLS" not in p.capa(), "implicit TLS: pop-serve offers no STLS")
    p.quit()
t.done()
