#!/usr/bin/python3
# smtp-recv and a queue program chain ($QMAILQUEUE = a filter that starts
# the real queue-add and forwards the message to it): on smtp-recv's
# timeout the whole chain dies, so the queue-add behind the filter never
# sees a short message end and queues it while the client is told 451.
import os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
piddir = env.path("pids")
os.mkdir(piddir)
filt = env.path("slowfilter")
with open(filt, "w") as f:
    f.write("""#!/bin/sh
# forwards the message line by line, SLOW seconds apart, to queue-add
# through a FIFO; queue-add's fd 1 is ours, the envelope pipe
fifo="$PIDDIR/fifo.$$"
mkfifo "$fifo" || exit 71
queue-add < "$fifo" &
echo $! > "$PIDDIR/second"
exec 3> "$fifo"
rm -f "$fifo"
while IFS= read -r line; do
	printf '%s\\n' "$line" >&3
	sleep "$SLOW"
done
exec 3>&-
wait $!
""")
os.chmod(filt, 0o755)


def committed():
    d = os.path.join(env.queue, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


HEAD = b"EHLO client.example\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"


def session(lines, slow):
    body = b"Subject: chain\r\n\r\n" + b"".join(b"line %d\r\n" % i for i in range(lines))
    return env.run(["smtp-recv", "-d", "2"], input=HEAD + body + b".\r\nQUIT\r\n", check=False, timeout=60,
                   env={"TCPREMOTEIP": "192.0.2.7", "QMAILQUEUE": filt, "PIDDIR": piddir, "SLOW": slow})


# a message the filter forwards in time: queued through the chain
r = session(3, "0")
t.eq(smtp_codes(r.stdout)[-2:], [250, 221], "a message through the chain in time: 250")
t.eq(len(committed()), 1, "and it is queued")
base = committed()

# a message the filter forwards too slowly for -d: 451, and the queue-add
# behind the filter is killed with it, so nothing more is queued
r = session(40, "0.1")
t.eq(smtp_codes(r.stdout)[-2:], [451, 221], "filter too slow for -d: 451")
second = int(open(os.path.join(piddir, "second")).read())
t.ok(pmtest.wait_for(lambda: not alive(second), timeout=6), "the queue-add behind the filter is dead too")
time.sleep(0.5)   # were it alive, it would have queued the short message by now
t.eq(committed(), base, "no truncated copy queued after the 451")
for pid in (second,):
    if alive(pid):
        os.kill(pid, 9)

t.done()
