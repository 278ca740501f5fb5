"""A scriptable SMTP server for client tests (standard library only).

    peer = SMTPPeer(opts)          # listens on 127.0.0.1:free port
    peer.port, peer.sessions       # each session: dict(cmds=[...], data=[raw bytes], tls=bool, auth=...)

opts (all optional):
    greeting     b"220 peer ESMTP"       first reply
    ext          [b"PIPELINING", ...]    EHLO keywords (default PIPELINING 8BITMIME SIZE)
    ehlo         reply to EHLO instead of 250 + ext (e.g. b"502 no")
    starttls     ssl.SSLContext: offer STARTTLS ("broken": answer 220, then garbage)
    inject       bytes sent right after STARTTLS's 220, in the same write
    mail         reply to MAIL (default 250)
    rcpt         {address: reply} (default 250)
    data         reply to DATA (default 354)
    dot          reply after the data (default 250), or CLOSE or STALL
    hangup       "mail", "data", "354" (right after it) or "body" (once some
                 data came): close the connection there
    silent       never send the greeting
    close_after_dot  drop the connection after each message
    script       list of per-session opts overriding the above, in order
"""
import socket, ssl, threading, base64, time

# in place of a reply: close the connection, or read on without ever
# answering until the client closes (or the session's 20 s timeout)
CLOSE = "close"
STALL = "stall"


def hang(c, how):
    """CLOSE or STALL the connection; raises EOFError to end the session"""
    while how == STALL and c.sock.recv(65536):
        pass
    raise EOFError


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        b = self.sock.recv(65536)
        if not b:
            raise EOFError
        self.buf += b

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 100000:
                raise EOFError
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def data(self):
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            if len(self.buf) > 50000000:
                raise EOFError
            self.fill()
        if self.buf.startswith(b".\r\n"):
            d, self.buf = b"", self.buf[3:]
            return d
        d, self.buf = self.buf.split(b"\r\n.\r\n", 1)
        return d + b"\r\n"

    def send(self, b):
        self.sock.sendall(b)


class SMTPPeer:
    def __init__(self, opts=None, host="127.0.0.1", port=0):
        self.opts = opts or {}
        self.sessions = []
        self.ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.nconn = 0
        t = threading.Thread(target=self.loop, daemon=True)
        t.start()

    def close(self):
        try:
            self.ls.close()
        except OSError:
            pass

    def loop(self):
        while True:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            o = dict(self.opts)
            script = self.opts.get("script")
            if script:
                o.update(script[min(self.nconn, len(script) - 1)])
            self.nconn += 1
            sess = {"cmds": [], "data": [], "tls": False, "auth": None, "raw": b""}
            self.sessions.append(sess)
            threading.Thread(target=self.serve, args=(s, o, sess), daemon=True).start()

    def serve(self, s, o, sess):
        s.settimeout(20)
        c = Conn(s)
        try:
            self.dialogue(c, o, sess)
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def dialogue(self, c, o, sess):
        if o.get("silent"):
            time.sleep(30)
            return
        c.send(o.get("greeting", b"220 peer ESMTP") + b"\r\n")
        if not o.get("greeting", b"220").startswith(b"220"):
            c.line()
            return
        while True:
            l = c.line()
            sess["cmds"].append(l)
            u = l.upper()
            if u.startswith(b"EHLO"):
                if o.get("ehlo"):
                    c.send(o["ehlo"] + b"\r\n")
                    continue
                ext = list(o.get("ext", [b"PIPELINING", b"8BITMIME", b"SIZE 10000000"]))
                if o.get("starttls") and not sess["tls"]:
                    ext.append(b"STARTTLS")
                lines = [b"peer"] + ext
                out = b"".join(b"250-" + x + b"\r\n" for x in lines[:-1]) + b"250 " + lines[-1] + b"\r\n"
                c.send(out)
            elif u.startswith(b"HELO"):
                c.send(b"250 peer\r\n")
            elif u == b"STARTTLS" and o.get("starttls") == "broken":
                c.send(b"220 2.0.0 go ahead\r\n")
                c.send(b"this is not TLS\r\n" * 10)
                return
            elif u == b"STARTTLS" and o.get("starttls"):
                c.send(b"220 2.0.0 go ahead\r\n" + o.get("inject", b""))
                c.sock = o["starttls"].wrap_socket(c.sock, server_side=True)
                c.buf = b""
                sess["tls"] = True
            elif u.startswith(b"AUTH PLAIN "):
                sess["auth"] = base64.b64decode(l[11:])
                c.send(o.get("authreply", b"235 2.7.0 ok") + b"\r\n")
            elif u == b"AUTH LOGIN":
                c.send(b"334 VXNlcm5hbWU6\r\n")
                user = base64.b64decode(c.line())
                c.send(b"334 UGFzc3dvcmQ6\r\n")
                pw = base64.b64decode(c.line())
                sess["auth"] = b"\0" + user + b"\0" + pw
                c.send(o.get("authreply", b"235 2.7.0 ok") + b"\r\n")
            elif u.startswith(b"MAIL FROM:"):
                if o.get("hangup") == "mail":
                    return
                c.send(o.get("mail", b"250 2.1.0 ok") + b"\r\n")
            elif u.startswith(b"RCPT TO:"):
                addr = l[8:].split(b">")[0].lstrip(b"<").decode("utf-8", "replace")
                c.send(o.get("rcpt", {}).get(addr, b"250 2.1.5 ok") + b"\r\n")
            elif u == b"DATA":
                if o.get("hangup") == "data":
                    return
                r = o.get("data", b"354 go")
                c.send(r + b"\r\n")
                if r.startswith(b"354"):
                    if o.get("hangup") == "354":
                        return
                    if o.get("hangup") == "body":
                        c.fill()
                        return
                    sess["data"].append(c.data())
                    dot = o.get("dot", b"250 2.0.0 queued")
                    if dot in (CLOSE, STALL):
                        hang(c, dot)
                    c.send(dot + b"\r\n")
                    if o.get("close_after_dot"):
                        return
            elif u == b"RSET" or u == b"NOOP":
                c.send(b"250 ok\r\n")
            elif u == b"QUIT":
                c.send(b"221 bye\r\n")
                return
            else:
                c.send(b"502 5.5.2 what\r\n")


class OverConn(Conn):
    """A Conn whose commands named in over get a scripted reply before
    SMTPPeer's dialogue sees them: over = {b"EHLO": [b"451 x", None]},
    one entry per occurrence of the verb (None, or the list used up:
    the dialogue's own reply; CLOSE or STALL: no reply; (reply, CLOSE or
    STALL): that after the reply). A 421 closes the connection after it."""

    def line(self):
        while True:
            l = Conn.line(self)
            verb = l.split(b" ", 1)[0].upper()
            left = self.over.get(verb)
            r = left.pop(0) if left else None
            if r is None:
                return l
            self.sess["cmds"].append(l)
            r, after = r if isinstance(r, tuple) else (r, None)
            if r in (CLOSE, STALL):
                hang(self, r)
            self.send(r + b"\r\n")
            if after:
                hang(self, after)
            if r.startswith(b"421"):
                raise EOFError


class OverPeer(SMTPPeer):
    """SMTPPeer plus opts["over"] (see OverConn), copied per session."""

    def dialogue(self, c, o, sess):
        c.__class__ = OverConn
        c.over = {k: list(v) for k, v in o.get("over", {}).items()}
        c.sess = sess
        SMTPPeer.dialogue(self, c, o, sess)
