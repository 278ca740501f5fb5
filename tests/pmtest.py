"""Test helpers for python tests (standard library only).

    import pmtest
    t = pmtest.TAP()
    t.ok(cond, "name"); t.eq(got, want, "name")
    env = pmtest.Env()            # throwaway dir + control dir (PIPEMAIL_CONF)
    env.add_user("demo@example.test", "demo")
    with env.server(["smtp-recv"], extra_env) as port: ...
    t.done()
"""
import os, re, select, shutil, signal, socket, subprocess, sys, tempfile, termios, time, atexit

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PIPEMAIL_BIN", os.path.join(TOP, "bin"))
SANITIZED = bool(os.environ.get("PIPEMAIL_SANITIZED"))
if os.getuid() == 0:
    MAILUID, MAILGID = 65534, 65534
else:
    MAILUID, MAILGID = os.getuid(), os.getgid()


def bin(name):
    return os.path.join(BIN, name)


def corpus_dir():
    for d in (os.path.join(TOP, "..", "shared", "corpus", "train"), os.environ.get("PIPEMAIL_CORPUS", "")):
        if d and os.path.isdir(os.path.join(d, "ham")):
            return os.path.abspath(d)
    return None


def corpus_sample(n, seed=1):
    """A deterministic sample of n corpus files (sorted names, stride)."""
    d = corpus_dir()
    if not d:
        return []
    files = sorted(os.path.join(d, k, f) for k in ("ham", "spam") for f in os.listdir(os.path.join(d, k)))
    if n >= len(files):
        return files
    step = len(files) / n
    return [files[int(i * step + seed) % len(files)] for i in range(n)]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def skip_all(self, why):
        print("1..0 # SKIP " + why, flush=True)
        sys.exit(0)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


class Env:
    """A throwaway directory with a control directory in it; stops every
    process it started at exit."""

    def __init__(self, domains=("example.test",)):
        self.dir = tempfile.mkdtemp(prefix="pmtest.")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "conf")
        self.queue = os.path.join(self.dir, "queue")
        os.mkdir(self.conf)
        self.procs = []
        self.wrapped = []   # started under a wrapper (strace): see close
        self.env = dict(os.environ)
        self.env["PIPEMAIL_CONF"] = self.conf
        self.env["PIPEMAIL_QUEUE"] = self.queue
        self.env["PATH"] = BIN + ":" + self.env.get("PATH", "/usr/bin:/bin")
        with open(os.path.join(self.conf, "me"), "w") as f:
            f.write("mx.example.test\n")
        for d in domains:
            self.run(["mailuser", "domain", "add", d])
        atexit.register(self.close)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def run(self, argv, input=None, env=None, check=True, timeout=60):
        e = dict(self.env)
        if env:
            e.update(env)
        argv = [bin(argv[0])] + list(argv[1:])
        r = subprocess.run(argv, input=input, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (argv, r.returncode, r.stderr.decode(errors="replace")))
        return r

    def add_user(self, addr, password, maildir=None, quota=None):
        """Create a user whose Maildir lives in this directory."""
        if maildir is None:
            maildir = self.path("mail", addr)
        argv = ["mailuser", "add", "-u", str(MAILUID), "-g", str(MAILGID), "-d", maildir]
        if quota is not None:
            argv += ["-q", str(quota)]
        self.run(argv + [addr], input=(password + "\n").encode())
        return maildir

    def set_hashes(self, hashes):
        """Put hashes ({address: hash}) into the users text by hand, as an
        admin importing old hashes would, then mailuser rebuild; returns
        the rebuild's result (its warnings are on stderr)."""
        users = os.path.join(self.conf, "users")
        with open(users) as f:
            lines = f.read().splitlines(True)
        with open(users, "w") as f:
            for line in lines:
                fields = line.split(":")
                if fields[0] in hashes:
                    fields[1] = hashes[fields[0]]
                f.write(":".join(fields))
        return self.run(["mailuser", "rebuild"])

    def make_cert(self):
        """A self-signed EC certificate for localhost / 127.0.0.1 in
        conf/tls/{cert,key}.pem, where tls-serve looks by default.
        Returns the certificate path (use it as the client's CA)."""
        d = os.path.join(self.conf, "tls")
        os.makedirs(d, exist_ok=True)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", key, "-out", cert], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.chmod(key, 0o600)
        return cert

    def fake_queue(self):
        """For smtp-recv behind tls-serve, which drops to the mailbox user:
        a directory tests/smtp-fakeq writes into, and the control databases,
        open to that user. Returns (the directory, the environment naming
        the fake queue program, tls-serve's -u arguments)."""
        fq = self.path("fakeq")
        os.mkdir(fq)
        os.chmod(fq, 0o777)
        os.chmod(self.dir, 0o755)
        os.chmod(self.conf, 0o755)
        for f in os.listdir(self.conf):
            if f.endswith(".cdb"):
                os.chmod(os.path.join(self.conf, f), 0o644)
        qenv = {"QMAILQUEUE": os.path.join(TOP, "tests", "smtp-fakeq"), "FAKEQ": fq}
        u = ["-u", "%d:%d" % (MAILUID, MAILGID)] if os.getuid() == 0 else []
        return fq, qenv, u

    def pfsh(self, pf, fn):
        """Run tests/postfix.sh's function fn (pf_init, pf_start, pf_stop)
        for the throwaway Postfix instance in directory pf."""
        return subprocess.run(["sh", "-c", '. "$0"; PF="$1"; ' + fn + ' "$1"', os.path.join(TOP, "tests", "postfix.sh"),
                               pf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    def postfix_start(self, pf, port):
        """Start the throwaway Postfix in pf (made by pf_init, its main.cf
        written) with an smtpd on 127.0.0.1:port, stopped at exit; True
        once that port answers."""
        with open(os.path.join(pf, "etc", "master.cf"), "a") as f:
            f.write("127.0.0.1:%d inet n - n - - smtpd\n" % port)
        atexit.register(self.pfsh, pf, "pf_stop")
        self.pfsh(pf, "pf_start")
        return wait_port(port)

    def start(self, argv, env=None, **kw):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.Popen(argv, env=e, **kw)
        self.procs.append(p)
        return p

    def server(self, argv, env=None, port=None, tcpserver_opts=("-R", "-H", "-l", "localhost"), wrap=()):
        """Run argv under tcpserver on 127.0.0.1:port (the whole under wrap,
        e.g. strace injecting faults). Returns the port."""
        port = port or free_port()
        cmd = [*wrap, "tcpserver", *tcpserver_opts, "127.0.0.1", str(port)]
        cmd += [argv[0] if os.path.isabs(argv[0]) else bin(argv[0])] + list(argv[1:])
        p = self.start(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(self.path("server-%d.log" % port), "wb"))
        if wrap:
            self.wrapped.append(p)
        if not wait_port(port):
            raise RuntimeError("server on port %d did not start" % port)
        return port

    def log(self, port):
        with open(self.path("server-%d.log" % port), "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        # a wrapper such as strace detaches on SIGTERM and leaves its
        # tcpserver running: that one is ended first, by its pid
        for p in self.wrapped:
            for c in children(p.pid):
                try:
                    os.kill(c, signal.SIGTERM)
                except OSError:
                    pass
        self.wrapped = []
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def mailbox(path, folders=()):
    """A Maildir (and Maildir++ folders) owned by MAILUID/MAILGID, with
    every parent traversable, for deliver-maildir and the servers."""
    for d in [path] + [os.path.join(path, "." + f) for f in folders]:
        for sub in ("", "tmp", "new", "cur"):
            os.makedirs(os.path.join(d, sub), mode=0o700, exist_ok=True)
            os.chown(os.path.join(d, sub), MAILUID, MAILGID)
    return path


def deliver_argv(maildir, *opts):
    """deliver-maildir's argv: -u MAILUID:MAILGID when running as root."""
    argv = [bin("deliver-maildir")]
    if os.getuid() == 0:
        argv += ["-u", "%d:%d" % (MAILUID, MAILGID)]
    return argv + list(opts) + [maildir]


# --- TLS helpers (tls-serve tests, usable by every TLS test) ---

def unit(name):
    """Path of a C unit-test binary (some double as test servers)."""
    d = os.environ.get("PIPEMAIL_UNIT", os.path.join(TOP, "obj", "unit"))
    return os.path.join(d, name + ".t")


def tls_context(cafile, minver=None, maxver=None, seclevel0=False):
    """A verifying client context for the localhost certificate from
    Env.make_cert(); minver/maxver are ssl.TLSVersion members."""
    import ssl
    ctx = ssl.create_default_context(cafile=cafile)
    if seclevel0:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if minver:
        ctx.minimum_version = minver
    if maxver:
        ctx.maximum_version = maxver
    return ctx


def client_hello(ctx, server_hostname="localhost"):
    """The first flight of a real TLS client with context ctx, from a
    memory BIO, to send by hand."""
    import ssl
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


class Lines:
    """Line-at-a-time talk over a socket (plain or TLS), bounded reads."""
    MAX = 4 << 20

    def __init__(self, sock, timeout=10):
        self.s = sock
        self.s.settimeout(timeout)
        self.buf = b""

    def line(self):
        """One line without CRLF, or None at end of stream."""
        while b"\n" not in self.buf:
            if len(self.buf) > self.MAX:
                raise RuntimeError("line too long")
            b = self.s.recv(65536)
            if not b:
                return None
            self.buf += b
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode(errors="replace")

    def reply(self):
        """An SMTP-style reply: every line until 'NNN ' (or end of stream)."""
        lines = []
        while True:
            l = self.line()
            if l is None:
                return lines
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return lines

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self, ctx, hostname="localhost"):
        """Wraps the socket; whatever was buffered in cleartext is returned
        (it must be empty in a correct session)."""
        left, self.buf = self.buf, b""
        self.s = ctx.wrap_socket(self.s, server_hostname=hostname, suppress_ragged_eofs=False)
        return left

    def rest(self):
        """Reads to the end; raises ssl.SSLEOFError if TLS ends without close_notify."""
        data, self.buf = self.buf, b""
        while len(data) <= self.MAX:
            b = self.s.recv(65536)
            if not b:
                break
            data += b
        return data


def log_event(text, event):
    """key=value dicts of every log line with event=NAME (values unquoted)."""
    import shlex
    out = []
    for line in text.splitlines():
        if " event=%s " % event not in line + " ":
            continue
        d = {}
        for w in shlex.split(line.split(": ", 1)[1] if ": " in line else line):
            if "=" in w:
                k, v = w.split("=", 1)
                d[k] = v
        out.append(d)
    return out


# --- SMTP helpers (smtp-recv tests) ---
def smtp_replies(raw):
    """Split a server transcript into replies: a list of (code, [lines])."""
    out, cur = [], []
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        if len(line) < 4 or not line[:3].isdigit():
            continue
        cur.append(line[4:])
        if line[3] == " ":
            out.append((int(line[:3]), cur))
            cur = []
    return out


def smtp_codes(raw):
    return [c for c, _ in smtp_replies(raw)]


def smtp_raw(port, chunks, timeout=10.0):
    """Connect, send each chunk (bytes) after the previous replies, return
    everything the server wrote until it closed or went quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.settimeout(timeout)
    got = b""
    try:
        for c in chunks:
            if c:
                s.sendall(c)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    return got + smtp_read_all(s)


def smtp_read_all(s):
    """Everything until the peer closes (or the socket times out); closes s."""
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    return got


class Scratch:
    """A throwaway directory (mode 0755, removed at exit) for tests that
    need no control directory, e.g. deliver-maildir's."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pmtest.")
        os.chmod(self.dir, 0o755)
        atexit.register(shutil.rmtree, self.dir, True)

    def path(self, *p):
        return os.path.join(self.dir, *p)


def deliver_env(**kw):
    """The test's environment (sanitizer options kept) without qmail-local's
    SENDER/RECIPIENT/DTLINE, plus kw."""
    e = {k: v for k, v in os.environ.items() if k not in ("SENDER", "RECIPIENT", "DTLINE")}
    e.update(kw)
    return e


# --- queue helpers (queue-add / queue-run tests) ---

def queue_add(env, sender, rcpts, message, dsn=None):
    """Queue message (bytes) with queue-add; returns its exit code."""
    e = dict(env.env)
    if dsn is not None:
        e["PIPEMAIL_DSN"] = dsn
    envelope = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
    r_env, w_env = os.pipe()
    os.write(w_env, envelope)
    os.close(w_env)
    p = subprocess.Popen([bin("queue-add")], stdin=subprocess.PIPE, stdout=r_env, env=e)
    os.close(r_env)
    p.communicate(message)
    return p.returncode


def maildir_files(maildir, sub="new"):
    d = os.path.join(maildir, sub)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d))


def children(pid):
    """pid's child processes (Linux's /proc list of them)"""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def strace_usable():
    """strace is installed and may trace here (a container can forbid ptrace)"""
    return bool(shutil.which("strace")) and subprocess.run(
        ["strace", "-o", "/dev/null", "true"], stderr=subprocess.DEVNULL).returncode == 0


def dir_synced(calls, path, after):
    """index in calls (strace lines, pids cut) of an fsync of directory
    path, opened after index after and synced after it, or None"""
    fds = {}
    for i, c in enumerate(calls):
        m = re.match(r'open(at)?\(.*"%s", [^)]*O_DIRECTORY.* = (\d+)$' % re.escape(path), c)
        if m:
            fds[m.group(2)] = i
        m = re.match(r"fsync\((\d+)\)", c)
        if m and i > after and m.group(1) in fds and fds[m.group(1)] > after:
            return i
    return None


def dotqmail(maildir, text):
    """Write a user's delivery file (.qmail beside the Maildir's cur/ new/ tmp/)"""
    p = os.path.join(maildir, ".qmail")
    with open(p, "w") as f:
        f.write(text)
    os.chown(p, MAILUID, MAILGID)
    os.chmod(p, 0o644)


def default_signals():
    """preexec_fn for a program whose stop signals a test sends: a shell's
    background job (prove run with &) inherits SIGINT and SIGQUIT
    ignored, and an ignored signal stays so across exec"""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def wait_for(pred, timeout=20.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def queue_files(env):
    d = os.path.join(env.queue, "mess")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pop_order(name):
    """pop-serve's message order: seconds, then microseconds of SECONDS.M<usec>, then the name"""
    sec, _, rest = name.partition(".")
    us = rest[1:].split("P")[0] if rest.startswith("M") else ""
    return (int(sec), int(us) if us.isdigit() else 0, name)


class PopRaw:
    """A raw POP3 connection: exact bytes in and out; the greeting read."""
    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.s.settimeout(timeout)
        self.f = self.s.makefile("rb")
        self.greeting = self.f.readline()
        self.end = None   # what ended the last multi(): b".\r\n", or b"" at end of input

    def send(self, b):
        self.s.sendall(b)

    def line(self):
        return self.f.readline()

    def cmd(self, b):
        self.s.sendall(b + b"\r\n")
        return self.f.readline()

    def multi(self):
        """the lines of a multi-line answer, up to the terminator (still dot-stuffed)"""
        out = []
        while True:
            l = self.f.readline()
            if l in (b".\r\n", b""):
                self.end = l
                return out
            out.append(l)

    def login(self, user, password):
        self.cmd(b"USER " + user.encode())
        return self.cmd(b"PASS " + password.encode())

    def close(self):
        self.f.close()
        self.s.close()


def subject_copies(maildir, subject):
    """how many messages in maildir's new/ have the header Subject: subject (bytes)"""
    n = 0
    for f in maildir_files(maildir):
        with open(f, "rb") as fh:
            n += re.search(rb"^Subject: " + re.escape(subject) + rb"$", fh.read(4096), re.M) is not None
    return n


def route_nowhere(env, domain="remote.test"):
    """Route domain's mail to a closed port on 127.0.0.1: every try fails
    temporarily (nothing listens), so the mail stays queued"""
    with open(os.path.join(env.conf, "routes"), "a") as f:
        f.write("%s:[127.0.0.1]:%d tls=no\n" % (domain, free_port()))


def log_reader(path):
    """a function returning the text of a log file so far"""
    return lambda: open(path, "rb").read().decode(errors="replace")


def queue_new(env, sender, rcpts, message, dsn=None):
    """queue_add, then the new message's id (None if queue-add failed)"""
    before = set(queue_files(env))
    if queue_add(env, sender, rcpts, message, dsn) != 0:
        return None
    new = set(queue_files(env)) - before
    return new.pop() if len(new) == 1 else None


def queue_unreadable(env):
    """A queue file queue-run sets aside into bad/ at its start: queued
    for demo@example.test (a user of env), its header whole, its envelope
    no longer parsing, three days old, no notice in new/. Its id, or None
    if it could not be queued."""
    mid = queue_new(env, "x@example.org", ["demo@example.test"], b"Subject: planted\n\nbody\n")
    if not mid:
        return None
    path = os.path.join(env.queue, "mess", mid)
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(data.index(b"\0Fx@example.org") + 1)
        f.write(b"Z")   # the envelope no longer parses; the header does
    old = time.time() - 3 * 86400
    os.utime(path, (old, old))
    for n in os.listdir(os.path.join(env.queue, "new")):
        os.unlink(os.path.join(env.queue, "new", n))
    return mid


def queue_add_owner(env, sender, rcpts, message):
    """queue-add run as the queue's owner (MAILUID/MAILGID, smtp-recv's
    user in tests of a queue root does not own): (exit code, stderr)"""
    envelope = b"F" + sender.encode() + b"\0" + b"".join(b"T" + r.encode() + b"\0" for r in rcpts) + b"\0"
    r, w = os.pipe()
    os.write(w, envelope)
    os.close(w)
    p = subprocess.Popen([bin("queue-add")], stdin=subprocess.PIPE, stdout=r, stderr=subprocess.PIPE, env=env.env,
                         preexec_fn=lambda: (os.setgroups([]), os.setgid(MAILGID), os.setuid(MAILUID)))
    os.close(r)
    _, err = p.communicate(message)
    return p.returncode, err.decode(errors="replace").strip()


def queue_of_mailuser(env, subdirs=("mess", "new", "state", "tmp", "pool")):
    """The queue as INSTALL lays it out, owned by smtp-recv's user (here
    MAILUID/MAILGID, mode 0750), with subdirs made too; returns its path"""
    for d in ("",) + tuple(subdirs):
        p = os.path.join(env.queue, d)
        os.makedirs(p, exist_ok=True)
        os.chown(p, MAILUID, MAILGID)
        os.chmod(p, 0o750)
    return env.queue


def queueadd_forwards_fail(env, code=71):
    """A queue-add for queue-run (PIPEMAIL_QUEUEADD) that refuses every
    message with a real sender (an alias's forward) with code, a qmail-
    queue temporary one by default, until the file it names exists, and
    queues bounces (null sender) with the real queue-add. Returns (the
    stub's path, the file that lets forwards through)."""
    stub, go = env.path("queue-add-stub"), env.path("queue-add-go")
    with open(stub, "w") as f:
        f.write(queueadd_stub("""if not (envl.startswith(b"F\\0") or envl.startswith(b"F#@[]\\0") or os.path.exists(%r)):
    sys.exit(%d)
""" % (go, code)))
    os.chmod(stub, 0o755)
    return stub, go


def queueadd_stub(middle):
    """The text of a python3 queue-add stub: it reads the message (msg)
    and the envelope (envl), runs middle (which may exit), then hands
    both to the real queue-add and exits with its code."""
    return """#!/usr/bin/python3
import os, subprocess, sys
msg, envl = sys.stdin.buffer.read(), b""
while True:
    b = os.read(1, 65536)
    if not b:
        break
    envl += b
%sr, w = os.pipe()
p = subprocess.Popen([%r], stdin=subprocess.PIPE, stdout=r)
os.close(r)
os.write(w, envl)
os.close(w)
p.communicate(msg)
sys.exit(p.returncode)
""" % (middle, bin("queue-add"))


def queue_retry(env, ids=None):
    """queue-list retry of ids (every queued message if None); its exit code"""
    ids = queue_files(env) if ids is None else ids
    return subprocess.run([bin("queue-list"), "retry"] + list(ids), env=env.env, capture_output=True,
                          timeout=30).returncode


def maildir_texts(maildir):
    """the messages in maildir's new/, as bytes"""
    out = []
    for f in maildir_files(maildir):
        with open(f, "rb") as fh:
            out.append(fh.read())
    return out


def queue_add_traced(env, subject, inject, rcpt=b"demo@example.test"):
    """queue-add under strace with one fault or delay injected (strace's
    -e inject= syntax, e.g. "fsync:delay_enter=3000000:when=1"), writing a
    message with that subject to rcpt; the running Popen"""
    envelope = b"Fx@example.org\0T" + rcpt + b"\0\0"
    r_env, w_env = os.pipe()
    os.write(w_env, envelope)
    os.close(w_env)
    p = env.start(["strace", "-f", "-o", "/dev/null", "-e", "inject=" + inject, bin("queue-add")],
                  stdin=subprocess.PIPE, stdout=r_env)
    os.close(r_env)
    p.stdin.write(b"Subject: " + subject + b"\n\nbody\n")
    p.stdin.close()
    return p


# --- power loss, simulated on a loop-mounted ext4 image ---
#
# A crash keeps what the kernel had written to the disk and loses what sat
# in its caches. Here the disk is an image file behind a loop device: a
# copy of that file taken at a chosen moment is the disk a power loss at
# that moment would leave. e2fsck -fy on the copy does what a boot does,
# and mounting it shows what survived. The test runs in a mount namespace
# of its own, so its mounts (and their loop devices, autocleared) go when
# it ends, however it ends.

CRASH_NS_MARK = "PMTEST_CRASH_NS"


def crash_usable():
    """None when a crash can be simulated here, else why not"""
    if os.getuid() != 0:
        return "not root"
    for tool in ("mkfs.ext4", "e2fsck", "unshare", "mount", "umount"):
        if not shutil.which(tool):
            return tool + " missing"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices"
    return None


def crash_namespace():
    """Runs the calling test again in a private mount namespace (once; the
    process is replaced). Returns None inside it, or why it cannot be
    done (the caller skips)."""
    if os.environ.get(CRASH_NS_MARK) == "1":
        return None
    why = crash_usable()
    if why:
        return why
    probe = ["unshare", "-m", "--propagation", "private"]
    if subprocess.run(probe + ["true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        return "unshare -m refused"
    sys.stdout.flush()
    os.environ[CRASH_NS_MARK] = "1"
    os.execvp("unshare", probe + [sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:])


def crash_tap():
    """crash_namespace(), then the test's TAP: the whole test is skipped
    where no crash can be simulated"""
    why = crash_namespace()
    t = TAP()
    if why:
        t.skip_all("no crash simulation here: " + why)
    return t


def _stopped(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t", "Z", "X")
    except OSError:
        return True


def _group_pids(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


class CrashFS:
    """A small ext4 file system (journal=False: ext4 -O ^has_journal, as
    ext2 and this project's own machines; else the default, data=ordered)
    on a loop device, mounted at .mnt. Use within crash_namespace()."""

    def __init__(self, where, journal=True, size_mb=32, opts=None):
        self.dir = where
        self.img = os.path.join(where, "disk.img")
        self.mnt = os.path.join(where, "mnt")
        self.mounts = []
        self.n = self.checked = self.dups = 0
        self.unusable = []
        os.makedirs(self.mnt, exist_ok=True)
        with open(self.img, "wb") as f:
            f.truncate(size_mb << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096"] + ([] if journal else ["-O", "^has_journal"]) +
                       [self.img], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._mount(self.img, self.mnt, "loop" + ("," + opts if opts else ""))
        atexit.register(self.close)

    def _mount(self, img, at, opts):
        subprocess.run(["mount", "-o", opts, img, at], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=60)
        self.mounts.append(at)

    def settle(self):
        """everything so far onto the disk: the state before the act"""
        os.sync()

    def snapshot(self, stop_groups=()):
        """A copy of the disk as it is now. The process groups in
        stop_groups are stopped (SIGSTOP, and seen stopped) while it is
        taken, so no write of theirs lands in the middle of the copy."""
        pids = []
        for g in stop_groups:
            try:
                os.killpg(g, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            pids += _group_pids(g)
        end = time.monotonic() + 10
        while time.monotonic() < end and not all(_stopped(p) for p in pids):
            time.sleep(0.005)
        self.n += 1
        snap = os.path.join(self.dir, "snap%d.img" % self.n)
        shutil.copyfile(self.img, snap)
        for g in stop_groups:
            try:
                os.killpg(g, signal.SIGCONT)
            except ProcessLookupError:
                pass
        return snap

    def fsck(self, snap):
        """e2fsck -fy on a copy, as at the boot after the crash: (exit
        code, its output); 0 and 1 are a usable file system. Each copy
        whose check failed or found blocks claimed by two files (which
        e2fsck then copies into blocks it believes free: see lib/queue.h,
        queue_pool_empty) is counted for fsck_verdicts."""
        r = subprocess.run(["e2fsck", "-fy", snap], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        text = r.stdout.decode(errors="replace")
        self.checked += 1
        if r.returncode not in (0, 1):
            self.unusable.append("%s: e2fsck %d: %s" % (os.path.basename(snap), r.returncode, text[-300:]))
        self.dups += "multiply-claimed" in text
        return r.returncode, text

    def fsck_verdicts(self, t, kind):
        """two TAP lines: every copy checked so far was usable, and none
        had blocks claimed twice"""
        t.ok(not self.unusable, "%s: fsck leaves every copy usable" % kind, "\n".join(self.unusable))
        t.ok(not self.dups, "%s: fsck finds no block claimed by two files in any copy" % kind,
             "%d of %d copies" % (self.dups, self.checked))

    def crash(self, stop_groups=(), rw=False):
        """snapshot, fsck and mount: (the copy's mount point, fsck's exit
        code, its output); read-only unless rw (to run commands on it)"""
        snap = self.snapshot(stop_groups)
        rc, text = self.fsck(snap)
        return self.mount(snap, rw=rw), rc, text

    def mount(self, snap, rw=False, at=None):
        """a copy mounted (read-only unless rw) at at, by default beside
        it; at=self.mnt covers the live file system, so that paths into
        it (a user's Maildir in the users table) lead into the copy: only
        once nothing runs there any more. Returns the mount point."""
        if at is None:
            at = snap[:-4] + ".mnt"
            os.mkdir(at)
        self._mount(snap, at, "loop" + ("" if rw else ",ro"))
        return at

    def unmount(self, at):
        """the mount at at, last mounted there, goes (and its loop device)"""
        subprocess.run(["umount", at], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        i = len(self.mounts) - 1 - self.mounts[::-1].index(at)
        del self.mounts[i]

    def close(self):
        while self.mounts:
            subprocess.run(["umount", self.mounts.pop()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=60)


def queue_file_message(path):
    """The message in a queue file (lib/queue.h's format) if the file is
    whole (header, sizes, CRC-32 of message then envelope, as queue-run
    checks), else None"""
    import zlib
    with open(path, "rb") as f:
        b = f.read()
    w = b[:64].split()
    if len(b) < 64 or b[63:64] != b"\n" or len(w) != 6 or w[0] != b"PMQ1" or not all(x.isdigit() for x in w[1:]):
        return None
    moff, mlen, eoff, elen, crc = (int(x) for x in w[1:])
    if max(moff + mlen, eoff + elen) != len(b) or zlib.crc32(b[moff:moff + mlen] + b[eoff:eoff + elen]) != crc:
        return None
    return b[moff:moff + mlen]


def crash_queue(env, journal, user, size_mb=32):
    """A CrashFS under env's directory that holds env's queue and the
    Maildir of a new local user: (the CrashFS, the Maildir, a label)"""
    fs = CrashFS(env.path("fs%d" % journal), journal=journal, size_mb=size_mb)
    env.env["PIPEMAIL_QUEUE"] = env.queue = fs.mnt + "/queue"
    md = env.add_user(user, "pw", maildir=fs.mnt + "/mail/" + user)
    return fs, md, "with a journal" if journal else "without a journal"


def queue_run_group(env, log, *opts):
    """queue-run (with opts) in a process group of its own, its log
    appended to log: CrashFS.snapshot can stop it and its children"""
    return env.start([bin("queue-run")] + list(opts), stderr=open(log, "ab"), start_new_session=True)


def stop_group(p, timeout=10):
    """SIGTERM to p's process group, then wait for p"""
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    p.wait(timeout)


def fsck_lost(text):
    """the lines of e2fsck's output that say an entry or an inode went"""
    return [l for l in text.splitlines() if re.search(r"deleted/unused inode|Clear|Unattached|lost\+found", l)]


def tty_echoing(fd):
    """the terminal on fd echoes what is typed"""
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def read_fd_until(fd, want, timeout=10.0):
    """bytes read from fd (a pty's master, a pipe) until want is among
    them, the end, or timeout seconds"""
    got, end = b"", time.monotonic() + timeout
    while want not in got and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got
