#!/usr/bin/python3
# A real MTA relaying into smtp-recv: a throwaway Postfix (its own config,
# queue and loopback port) with relayhost pointing at smtp-recv under
# tcpserver. Proves interoperation: pipelining, 8BITMIME, SIZE, DSN.
import glob, os, pwd, smtplib, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not os.path.exists("/usr/sbin/postfix") or os.getuid() != 0:
    t.skip_all("needs postfix and root")
try:
    pw = pwd.getpwnam("postfix")
except KeyError:
    t.skip_all("no postfix user")
env = pmtest.Env()
env.add_user("u@example.test", "pw")
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
HERE = os.path.dirname(os.path.abspath(__file__))
port = env.server(["smtp-recv"], env={"QMAILQUEUE": os.path.join(HERE, "smtp-fakeq"), "FAKEQ": FAKEQ})

# the throwaway instance from tests/postfix.sh (shared with smtp-send's tests)
pf = env.path("postfix")
env.pfsh(pf, "pf_init")
pport = pmtest.free_port()
with open(os.path.join(pf, "etc", "main.cf"), "a") as f:
    f.write("mynetworks = 127.0.0.0/8\nsmtpd_recipient_restrictions = permit_mynetworks, reject\n"
            "relayhost = [127.0.0.1]:%d\nqueue_run_delay = 1s\nminimal_backoff_time = 1s\n" % port)
if not env.postfix_start(pf, pport):
    t.skip_all("postfix did not start")

body8 = "Subject: via postfix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n".encode()
c = smtplib.SMTP("127.0.0.1", pport, timeout=20)
c.ehlo("client.test")
c.sendmail("sender@client.test", ["u@example.test"], body8, mail_options=["BODY=8BITMIME", "RET=HDRS", "ENVID=pf1"],
           rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
c.sendmail("sender@client.test", ["nobody@example.test"], b"Subject: x\r\n\r\nx\r\n")
c.quit()

msgs = []
end = time.monotonic() + 30
while time.monotonic() < end and not msgs:
    msgs = sorted(glob.glob(os.path.join(FAKEQ, "msg.*")))
    time.sleep(0.2)
t.eq(len(msgs), 1, "Postfix relayed the message into smtp-recv")
if msgs:
    n = msgs[0].rsplit(".", 1)[1]
    m = open(msgs[0], "rb").read()
    e = open(os.path.join(FAKEQ, "env." + n), "rb").read()
    d = open(os.path.join(FAKEQ, "dsn." + n), "rb").read()
    t.ok("Grüße\n".encode() in m and b"with ESMTP" in m and b"Received: from pf.test" in m, "8-bit body and Received line", m[:300])
    t.ok(e.startswith(b"Fsender@client.test\nTu@example.test\n"), "envelope from Postfix", e)
    t.ok(d.startswith(b"RET=HDRS ENVID=pf1\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u@example.test"), "DSN parameters carried", d)
time.sleep(1)
log = open(os.path.join(pf, "maillog"), errors="replace").read() if os.path.exists(os.path.join(pf, "maillog")) else ""
t.ok("550 5.1.1" in log and "nobody@example.test" in log, "unknown recipient refused at RCPT, seen by Postfix", log[-1500:])
t.done()
