#!/usr/bin/python3
# queue-run killed while a persistent smtp-send -B is in the middle of a
# message's data, then started again. The old smtp-send goes on reading
# the queue file; the new queue-run may send the message again (the
# recipient in flight), but it must not finish the message and pool its
# file while the old reader still has it: a writer would put the next
# message into that file, and the old connection would carry the rest of
# another sender's message under the first one's beginning.
import os, signal, socket, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import queue_add, wait_for, queue_files

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")

SIZE = 12 << 20   # past what the socket buffers of a stalled connection hold
M = b"Subject: first\n\n" + (b"M" * 99 + b"\n") * (SIZE // 100)
N = b"Subject: other\n\n" + (b"N" * 99 + b"\n") * (SIZE // 100)
lock = threading.Lock()
conns = []                      # per connection: {"data": [each message's bytes]}
stalled = threading.Event()     # the first connection has read a little and stopped
resume = threading.Event()


def session(c, n):
    rec = {"data": []}
    with lock:
        conns.append(rec)
    f = c.makefile("rb")
    try:
        c.sendall(b"220 peer\r\n")
        while True:
            line = f.readline(2000)
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                c.sendall(b"250-peer\r\n250 PIPELINING\r\n")
            elif cmd == b"DATA":
                c.sendall(b"354 go\r\n")
                d = []
                got = 0
                while True:
                    l = f.readline(1 << 20)
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    d.append(l)
                    got += len(l)
                    if n == 0 and got > 65536 and not stalled.is_set():
                        stalled.set()
                        resume.wait(60)
                rec["data"].append(b"".join(d))
                c.sendall(b"250 ok\r\n")
            elif cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    finally:
        c.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
srv.bind(("127.0.0.1", 0))
srv.listen(20)
srv.settimeout(0.2)
stop = False


def serve():
    n = 0
    while not stop:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=session, args=(c, n), daemon=True).start()
        n += 1


threading.Thread(target=serve, daemon=True).start()
env = pmtest.Env()
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("remote.test:[127.0.0.1]:%d tls=no\n" % srv.getsockname()[1])
log = open(env.path("queue-run.log"), "ab")
qr = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log)
t.eq(queue_add(env, "s@example.test", ["r@remote.test"], M), 0, "a big message queued")
t.ok(stalled.wait(20), "its data is on its way and the peer stalls")
qr.kill()
qr.wait()
qr2 = env.start([pmtest.bin("queue-run"), "-b", "1", "-m", "1"], stderr=log)
# the new queue-run may send it again now; give it the time to do so and finish
wait_for(lambda: not queue_files(env), 5)
t.eq(queue_add(env, "s@example.test", ["r@remote.test"], N), 0, "another message queued")
resume.set()
t.ok(wait_for(lambda: conns and conns[0]["data"], 30), "the stalled connection's data ended")
first = conns[0]["data"][0] if conns and conns[0]["data"] else None
want = M.replace(b"\n", b"\r\n")
t.ok(first == want, "it carried the first message exactly, nothing of the other",
     None if first is None else "len %d, N bytes %d" % (len(first), first.count(b"N")))
t.ok(wait_for(lambda: not queue_files(env), 30), "queue drained")
with lock:
    datas = [d for c in conns for d in c["data"]]
t.ok(all(d in (want, N.replace(b"\n", b"\r\n")) for d in datas), "every delivered copy is one whole message",
     [len(d) for d in datas])
t.ok(N.replace(b"\n", b"\r\n") in datas, "the other message delivered")
stop = True
srv.close()
t.done()
