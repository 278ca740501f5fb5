"""A tiny scripted DNS server for resolver tests (standard library only).

    dns = DNSStub(zone)        # UDP and TCP on 127.0.0.1:dns.port
    zone: {("name.", "MX"): [(10, "mx.name.")], ("mx.name.", "A"): ["127.0.0.1"],
           ("name.", "CNAME"): "target.", ("name.", "*"): "SERVFAIL"}
    names not in the zone at all: NXDOMAIN; a name with other types: NODATA.
    dns.tc = set of names whose UDP answers are truncated (TC), so the
    resolver must ask again over TCP; dns.queries lists (proto, name, type).
"""
import socket, struct, threading

# two MX hosts that tests serve on one port: "bad" on 127.0.0.2
# (preference 10) fails in some way, "good" on 127.0.0.1 (20) accepts
TWO_MX = {
    ("two.test.", "MX"): [(10, "bad.two.test."), (20, "good.two.test.")],
    ("bad.two.test.", "A"): ["127.0.0.2"], ("good.two.test.", "A"): ["127.0.0.1"],
}


def cannot_bind(host):
    """None, or why host cannot be listened on (not every system routes
    all of 127/8 to lo)"""
    try:
        socket.socket().bind((host, 0))
    except OSError as e:
        return "cannot bind %s: %s" % (host, e)
    return None


TYPES = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}


def enc_name(n):
    n = n.rstrip(".")
    if not n:
        return b"\0"
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"


def dec_name(b, i):
    labels = []
    while b[i]:
        labels.append(b[i + 1:i + 1 + b[i]].decode())
        i += 1 + b[i]
    return ".".join(labels).lower() + ".", i + 1


class DNSStub:
    def __init__(self, zone):
        self.zone = {(k[0].lower(), k[1]): v for k, v in zone.items()}
        self.tc = set()
        self.queries = []
        for attempt in range(50):   # a UDP port whose TCP twin is free too
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket()
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if attempt == 49:
                    raise
        self.tcp.listen(5)
        self.stop = False
        for f in (self.serve_udp, self.serve_tcp):
            threading.Thread(target=f, daemon=True).start()

    def close(self):
        self.stop = True
        self.udp.close()
        self.tcp.close()

    def rr(self, name, typ, v):
        if typ == "A":
            rd = socket.inet_pton(socket.AF_INET, v)
        elif typ == "AAAA":
            rd = socket.inet_pton(socket.AF_INET6, v)
        elif typ == "MX":
            rd = struct.pack(">H", v[0]) + enc_name(v[1])
        elif typ == "CNAME":
            rd = enc_name(v)
        else:
            rd = bytes([len(v)]) + v.encode()
        return enc_name(name) + struct.pack(">HHIH", TYPES[typ], 1, 60, len(rd)) + rd

    def answer(self, q, proto):
        qid, flags = struct.unpack(">HH", q[:4])
        name, i = dec_name(q, 12)
        qtype = struct.unpack(">H", q[i:i + 2])[0]
        tname = [k for k, v in TYPES.items() if v == qtype]
        tname = tname[0] if tname else str(qtype)
        self.queries.append((proto, name, tname))
        question = q[12:i + 4]
        rcode, ans, tcbit = 0, [], 0
        if self.zone.get((name, "*")) == "SERVFAIL":
            rcode = 2
        elif proto == "udp" and name in self.tc:
            tcbit = 0x200
        else:
            n = name
            for _ in range(8):
                if (n, "CNAME") in self.zone and tname != "CNAME":
                    ans.append(self.rr(n, "CNAME", self.zone[(n, "CNAME")]))
                    n = self.zone[(n, "CNAME")].lower()
                    continue
                break
            for v in self.zone.get((n, tname), []):
                ans.append(self.rr(n, tname, v))
            if not ans and not any(k[0] == n for k in self.zone):
                rcode = 3
        hdr = struct.pack(">HHHHHH", qid, 0x8000 | 0x400 | 0x100 | 0x80 | tcbit | rcode, 1, len(ans), 0, 0)
        return hdr + question + b"".join(ans)

    def serve_udp(self):
        while not self.stop:
            try:
                q, a = self.udp.recvfrom(4096)
                self.udp.sendto(self.answer(q, "udp"), a)
            except OSError:
                return
            except Exception:
                continue

    def serve_tcp(self):
        while not self.stop:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                b = b""
                while len(b) < 2 or len(b) < 2 + struct.unpack(">H", b[:2])[0]:
                    x = c.recv(4096)
                    if not x:
                        break
                    b += x
                if len(b) >= 2:
                    r = self.answer(b[2:], "tcp")
                    c.sendall(struct.pack(">H", len(r)) + r)
            except Exception:
                pass
            finally:
                c.close()
