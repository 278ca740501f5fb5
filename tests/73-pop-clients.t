#!/usr/bin/python3
# Real POP3 clients against pop-serve (INTEROP.md): fetchmail over STLS,
# getmail6 over implicit TLS, curl pop3:// (STLS) and pop3s:// — each
# fetches the mailbox and the bytes match what is stored.
import glob, os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

from pmtest import pop_order as order

t = pmtest.TAP()
env = pmtest.Env()
PW = "client pw"
md = env.add_user("u@example.test", PW)
ca = env.make_cert()
msgs = [b"Subject: first\nFrom: a@b.test\n\nhello\n.dot line\n..two\n.\nend\n",
        b"Subject: second\nFrom: c@d.test\n\n" + b"long line " * 500 + b"\n" + b"line\n" * 300]
for m in msgs:
    env.run(["deliver-maildir", "-u", "%d:%d" % (pmtest.MAILUID, pmtest.MAILGID), md], input=m,
            env={"SENDER": "a@b.test", "RECIPIENT": "u@example.test", "DTLINE": "Delivered-To: u@example.test\n"})
names = sorted(os.listdir(os.path.join(md, "new")), key=order)
stored = [open(os.path.join(md, "new", n), "rb").read() for n in names]
crlf = [s.replace(b"\n", b"\r\n") for s in stored]
port = env.server(["tls-serve", "pop-serve", "-n"])
port_i = env.server(["tls-serve", "-i", "pop-serve", "-n"])


def run(argv, **kw):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, **kw)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, -1, b"", b"timeout")


# curl: LIST, RETR, UIDL over STLS and implicit TLS
if shutil.which("curl"):
    base = ["curl", "-sS", "--cacert", ca, "-u", "u@example.test:" + PW]
    r = run(base + ["--ssl-reqd", "pop3://localhost:%d/" % port])
    t.eq(r.stdout, b"".join(b"%d %d\r\n" % (i + 1, len(c)) for i, c in enumerate(crlf)), "curl pop3:// STLS LIST", )
    for i, c in enumerate(crlf):
        r = run(base + ["--ssl-reqd", "pop3://localhost:%d/%d" % (port, i + 1)])
        t.eq(r.stdout, c, "curl pop3:// RETR %d bytes match" % (i + 1))
        r = run(base + ["pop3s://localhost:%d/%d" % (port_i, i + 1)])
        t.eq(r.stdout, c, "curl pop3s:// RETR %d bytes match" % (i + 1))
    r = run(base + ["--ssl-reqd", "-X", "UIDL", "pop3://localhost:%d/" % port])
    t.eq(r.stdout, b"".join(b"%d %s\r\n" % (i + 1, n.split(",")[0].encode()) for i, n in enumerate(names)), "curl UIDL")
    r = run(["curl", "-sS", "-u", "u@example.test:" + PW, "pop3://localhost:%d/1" % port])
    t.ok(r.returncode != 0, "curl without TLS cannot log in")
else:
    t.ok(True, "# SKIP curl not installed")

# fetchmail over STLS (it CAPAs, STLSes, CAPAs again, checks LIST sizes)
if shutil.which("fetchmail"):
    home = env.path("fm")
    out = env.path("fm", "out")
    os.makedirs(out)
    rc = os.path.join(home, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('set no syslog\nset invisible\npoll localhost service %d protocol pop3 auth password\n'
                '  user "u@example.test" password "%s" is root here\n'
                '  sslproto tls1.2+ sslcertck sslcertfile "%s"\n'
                '  fetchall keep no rewrite\n'
                '  mda "/bin/sh -c \'cat > %s/msg.$$\'"\n' % (port, PW, ca, out))
    os.chmod(rc, 0o600)
    e = dict(os.environ, HOME=home)
    r = run(["fetchmail", "-f", rc, "--nodetach", "--idfile", os.path.join(home, "ids")], env=e)
    t.ok(r.returncode == 0, "fetchmail exits 0", r.stderr.decode(errors="replace") + r.stdout.decode(errors="replace"))
    got = sorted(open(p, "rb").read() for p in glob.glob(out + "/msg.*"))
    t.eq(len(got), len(stored), "fetchmail fetched every message")
    t.ok(got == sorted(stored), "fetchmail bytes match", [g[:300] for g in got])
else:
    t.ok(True, "# SKIP fetchmail not installed")

# getmail6 over implicit TLS; it refuses to run as root
if shutil.which("getmail"):
    gm = env.path("gm")
    dest = os.path.join(gm, "Maildir")
    for d in ("", "Maildir", "Maildir/new", "Maildir/cur", "Maildir/tmp"):
        os.makedirs(os.path.join(gm, d), exist_ok=True)
    with open(os.path.join(gm, "getmailrc"), "w") as f:
        f.write("[retriever]\ntype = SimplePOP3SSLRetriever\nserver = localhost\nport = %d\n"
                "username = u@example.test\npassword = %s\nca_certs = %s\n\n"
                "[destination]\ntype = Maildir\npath = %s/\n\n"
                "[options]\nread_all = true\ndelete = false\ndelivered_to = false\nreceived = false\n"
                "message_log_syslog = false\nverbose = 0\n" % (port_i, PW, ca, dest))
    pre = []
    if os.getuid() == 0:
        for root, dirs, fs in os.walk(gm):
            for x in dirs + fs:
                os.chown(os.path.join(root, x), pmtest.MAILUID, pmtest.MAILGID)
        os.chown(gm, pmtest.MAILUID, pmtest.MAILGID)
        pre = ["setpriv", "--reuid=%d" % pmtest.MAILUID, "--regid=%d" % pmtest.MAILGID, "--clear-groups"]
    e = dict(os.environ, HOME=gm)
    r = run(pre + ["getmail", "-g", gm, "-r", "getmailrc"], env=e, cwd=gm)
    t.ok(r.returncode == 0, "getmail exits 0", r.stderr.decode(errors="replace") + r.stdout.decode(errors="replace"))
    got = sorted(open(p, "rb").read() for p in glob.glob(dest + "/new/*"))
    t.eq(len(got), len(stored), "getmail fetched every message")
    # getmail writes the Return-Path it was given back on top: compare the rest
    strip = [g[g.index(b"\n") + 1:] if g.startswith(b"Return-Path:") else g for g in got]
    want = [s[s.index(b"\n") + 1:] for s in stored]
    t.ok(sorted(strip) == sorted(want), "getmail bytes match", [g[:300] for g in got])
else:
    t.ok(True, "# SKIP getmail6 not installed")

t.eq(sorted(os.listdir(os.path.join(md, "new")), key=order), names, "-n: the mailbox is unchanged")
t.done()
