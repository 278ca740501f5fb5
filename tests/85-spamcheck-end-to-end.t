#!/usr/bin/python3
# spamcheck in the whole pipeline: smtplib -> tcpserver + smtp-recv ->
# spamcheck -q (QMAILQUEUE wrapper) -> queue-add -> queue-run -> the
# user's delivery file with the Junk recipe from spamcheck(1) ->
# deliver-maildir. GTUBE is refused after DATA with a 5xx; trained spam
# lands in .Junk, ham in the inbox, both with the spamcheck fields.
import os, re, smtplib, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import maildir_files, wait_for

t = pmtest.TAP()
for c in ("spamcheck", "smtp-recv", "deliver-maildir", "queue-add", "queue-run", "mailuser"):
    if not os.path.exists(pmtest.bin(c)):
        t.skip_all(c + " not built")
env = pmtest.Env()
demo = env.add_user("demo@example.test", "pw")

# a self-made training set: the project ships no third-party mail
sd, hd = env.path("train-spam"), env.path("train-ham")
os.mkdir(sd)
os.mkdir(hd)
for i in range(30):
    with open(os.path.join(sd, str(i)), "w") as f:
        f.write("From: promo%d@deals.example\nTo: you@example.test\nSubject: CHEAP pills %d now\n\n"
                "Buy cheap pills online, best price guaranteed.\nClick http://pills%d.example/buy now!\n" % (i, i, i % 5))
    with open(os.path.join(hd, str(i)), "w") as f:
        f.write("From: colleague%d@work.example\nTo: demo@example.test\nSubject: project meeting %d\n"
                "Message-ID: <%d@work.example>\n\nThe project review meeting moves to room %d.\n"
                "Please bring the agenda and the draft report.\n" % (i, i, i, i))
env.run(["spamcheck", "-s", sd])
env.run(["spamcheck", "-n", hd])
t.ok(os.path.exists(os.path.join(env.conf, "spamcheck.db")), "trained into $PIPEMAIL_CONF/spamcheck.db")


def wrapper(name, opts):
    p = env.path(name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\nexec spamcheck %s -q queue-add\n" % opts)
    os.chmod(p, 0o755)
    return p


refuse = env.server(["smtp-recv"], env={"QMAILQUEUE": wrapper("sc-refuse", "")})
keep = env.server(["smtp-recv"], env={"QMAILQUEUE": wrapper("sc-keep", "-R 1")})
recipe = ("|spamcheck -p sh -c 'if [ \"$SPAMCHECK_VERDICT\" = spam ]; then deliver-maildir -c -f Junk ./; "
          "else deliver-maildir ./; fi && exit 99'")
with open(os.path.join(demo, ".qmail"), "w") as f:
    f.write(recipe + "\n")
os.chmod(os.path.join(demo, ".qmail"), 0o644)
log = open(env.path("queue-run.log"), "wb")
qr = env.start([pmtest.bin("queue-run")], stderr=log)

gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
code = None
with smtplib.SMTP("127.0.0.1", refuse, timeout=30) as s:
    try:
        s.sendmail("x@deals.example", ["demo@example.test"], "Subject: test\r\n\r\n%s\r\n" % gtube)
    except smtplib.SMTPDataError as e:
        code = e.smtp_code
t.ok(code is not None and 500 <= code < 600, "GTUBE refused after DATA with a 5xx (got %r)" % code)

spam = ("From: promo7@deals.example\r\nTo: demo@example.test\r\nSubject: cheap pills now\r\n\r\n"
        "Buy cheap pills online, best price. Click http://pills2.example/buy now!\r\n")
ham = ("From: colleague3@work.example\r\nTo: demo@example.test\r\nSubject: project meeting\r\n\r\n"
       "The review meeting moves; please bring the agenda and the draft report.\r\n")
with smtplib.SMTP("127.0.0.1", keep, timeout=30) as s:
    s.sendmail("promo7@deals.example", ["demo@example.test"], spam)
    s.sendmail("colleague3@work.example", ["demo@example.test"], ham)
junk = os.path.join(demo, ".Junk")
wait_for(lambda: maildir_files(junk) and maildir_files(demo), 30)
t.eq(len(maildir_files(junk)), 1, "trained spam filed in .Junk")
t.eq(len(maildir_files(demo)), 1, "ham delivered to the inbox")
if maildir_files(junk) and maildir_files(demo):
    with open(maildir_files(junk)[0], "rb") as f:
        j = f.read()
    with open(maildir_files(demo)[0], "rb") as f:
        h = f.read()
    t.ok(re.search(rb"(?m)^X-Spam-Flag: YES\r?$", j) and b"Buy cheap pills" in j, "the Junk copy is flagged")
    t.ok(re.search(rb"(?m)^X-Spam-Status: No, ", h) and b"review meeting" in h, "the inbox copy says No")
    # X-Spam fields from both passes (queue and delivery): ours come first each time
    t.ok(len(re.findall(rb"(?m)^X-Spam-Score: ", h)) == 2, "queue and delivery each added their fields")
qr.terminate()
qr.wait(10)
t.done()
