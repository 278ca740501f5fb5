#!/usr/bin/python3
# smtp-send says "relayed" for a recipient that asked for NOTIFY=SUCCESS
# and was accepted by a peer without DSN (RFC 3461 5.2.2), however the
# keyword is written: ESMTP keywords are case-insensitive (RFC 5321 2.4)
# and smtp-send takes PIPEMAIL_DSN's "notify=" as it takes "NOTIFY=".
# Both ways in: one run per job, and a batch (-B) job's DSN line.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from smtppeer import SMTPPeer

t = pmtest.TAP()
if not os.path.exists(pmtest.bin("smtp-send")):
    t.skip_all("smtp-send not built")
env = pmtest.Env()
plain = SMTPPeer({})
with open(os.path.join(env.conf, "routes"), "w") as f:
    f.write("plain.test:[127.0.0.1]:%d tls=no\n" % plain.port)
want = ["relayed", "relayed", "ok", "ok"]
rcpts = ["a@plain.test", "b@plain.test", "c@plain.test", "d@plain.test"]
lines = ["notify=success", "Notify=Failure,Success orcpt=rfc822;b+40x.test", "notify=failure", ""]

r = subprocess.run([pmtest.bin("smtp-send"), "-f", "s@example.test", "plain.test"] + rcpts,
                   input=b"Subject: case\n\nbody\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   env=dict(env.env, PIPEMAIL_DSN="\n" + "".join(l + "\n" for l in lines)), timeout=30)
t.eq(r.returncode, 0, "smtp-send exits 0")
t.eq([l.split(" ")[0] for l in r.stdout.decode().splitlines()], want, "one run: relayed whatever the case")

msg = env.path("msg")
with open(msg, "wb") as f:
    f.write(b"Subject: case\n\nbody\n")
job = "DSN\t\t" + "\t".join(lines).rstrip("\t") + "\n" + msg + " plain.test s@example.test " + " ".join(rcpts) + "\n"
r = subprocess.run([pmtest.bin("smtp-send"), "-B"], input=job.encode(), stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, env=env.env, timeout=30)
out = r.stdout.decode().splitlines()
t.eq(out[-1:], ["."], "the batch job is answered")
t.eq([l.split(" ")[0] for l in out[:-1]], want, "batch: relayed whatever the case")
plain.close()
t.done()
