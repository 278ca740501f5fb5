#!/usr/bin/python3
# smtp-recv's size limit (-s, the EHLO SIZE value) counts a message as
# RFC 1870 2 defines its size: octets including CR LF pairs, without the
# transparency dots and the final ".": a message of exactly the limit is
# taken, one octet more refused with 552 5.3.4, by DATA as by BDAT. The
# count was of the queue's LF-ended bytes, one short per line: a message
# MAIL FROM SIZE= had refused for its true size was taken when sent
# without SIZE= (50 lines of "x" under -s 100 were 150 octets).
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import smtp_codes

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("u@example.test", "pw")
MAIL = b"EHLO c\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<u@example.test>\r\n"


def codes(data, limit=100):
    r = env.run(["smtp-recv", "-s", str(limit)], input=MAIL + data + b"QUIT\r\n",
                env={"TCPREMOTEIP": "192.0.2.7"}, check=False)
    return smtp_codes(r.stdout)[4:-1]


def data(text):
    """DATA with text (CR LF lines), dot-stuffed"""
    return b"DATA\r\n" + b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                                  for l in text.split(b"\r\n")[:-1]) + b".\r\n"


def bdat(text):
    return b"BDAT %d LAST\r\n" % len(text) + text


exact = b"x" * 98 + b"\r\n"                 # 100 octets
over = b"x" * 99 + b"\r\n"                  # 101
short_lines = b"x\r\n" * 50                 # 150 octets in 50 lines
lines_exact = b"x\r\n" * 32 + b"xx\r\n"     # 96 + 4 = 100
dots = b"." * 98 + b"\r\n"                  # 100 octets, 101 on the wire with the stuffed dot

t.eq(len(exact), 100, "sizes as meant")
t.eq(len(lines_exact), 100, "sizes as meant (lines)")
for how, wrap in (("DATA", data), ("BDAT", bdat)):
    t.eq(codes(wrap(exact)), [354, 250] if how == "DATA" else [250], how + ": one line of exactly the limit is taken")
    t.eq(codes(wrap(over))[-1], 552, how + ": one octet over is refused")
    t.eq(codes(wrap(lines_exact))[-1], 250, how + ": 33 lines of exactly the limit are taken")
    t.eq(codes(wrap(lines_exact + b"\r\n"))[-1], 552, how + ": one more empty line (CR LF) is refused")
    t.eq(codes(wrap(short_lines))[-1], 552, how + ": 50 short lines, 150 octets, are refused")
t.eq(codes(data(dots))[-1], 250, "DATA: a doubled dot is not counted")
t.eq(codes(b"BDAT 101\r\n" + b"x" * 101 + b"BDAT 0 LAST\r\n")[0], 552, "BDAT: a chunk past the limit is refused")
# the same verdict as MAIL FROM SIZE= gives for the true size
r = env.run(["smtp-recv", "-s", "100"], input=b"EHLO c\r\nMAIL FROM:<s@x.test> SIZE=150\r\nQUIT\r\n",
            env={"TCPREMOTEIP": "192.0.2.7"}, check=False)
t.eq(smtp_codes(r.stdout)[2], 552, "MAIL FROM SIZE=150 under -s 100 is refused as the message is")
# RFC 1870's size-value is 1*20DIGIT: 20 digits past 2^64-1 are a size
# over the limit (552 5.3.4), 21 digits bad syntax (501)
r = env.run(["smtp-recv"], input=b"EHLO c\r\nMAIL FROM:<s@x.test> SIZE=99999999999999999999\r\n"
            b"MAIL FROM:<s@x.test> SIZE=999999999999999999999\r\nMAIL FROM:<s@x.test> SIZE=18446744073709551615\r\n"
            b"QUIT\r\n", env={"TCPREMOTEIP": "192.0.2.7"}, check=False)
t.eq([x[:9] for x in r.stdout.decode().split("\r\n")[-5:-2]], ["552 5.3.4", "501 5.5.4", "552 5.3.4"],
     "SIZE= of 20 digits past 2^64: 552; of 21 digits: 501; 2^64-1: 552")
t.done()
