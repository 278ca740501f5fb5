#!/usr/bin/python3
# smtp-recv: an address-literal EHLO (RFC 5321 4.1.3, sent by clients with
# no host name) is a valid From-domain of the Received: line (4.4) and goes
# there as it is; before, its brackets became '?' ("from ?192.0.2.7?").
# Anything else keeps the header-safe form.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")


def received(helo):
    before = set(pmtest.queue_files(env))
    env.run(["smtp-recv"], input=b"EHLO " + helo + b"\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<u@example.test>\r\n"
            b"DATA\r\n\r\nx\r\n.\r\nQUIT\r\n", env={"TCPREMOTEIP": "203.0.113.9"}, check=False)
    new = set(pmtest.queue_files(env)) - before
    if len(new) != 1:
        return None
    msg = pmtest.queue_file_message(os.path.join(env.queue, "mess", new.pop()))
    return msg.split(b"\n")[0] if msg else None


t.eq(received(b"[192.0.2.7]"), b"Received: from [192.0.2.7] ([203.0.113.9])", "IPv4 literal kept")
t.eq(received(b"[IPv6:2001:db8::1]"), b"Received: from [IPv6:2001:db8::1] ([203.0.113.9])", "IPv6 literal kept")
t.eq(received(b"[1.2.3.4]x]"), b"Received: from ?1.2.3.4?x? ([203.0.113.9])", "not one literal: made safe")
t.eq(received(b"[300.1.2.3]"), b"Received: from ?300.1.2.3? ([203.0.113.9])", "not an address: made safe")
t.done()
