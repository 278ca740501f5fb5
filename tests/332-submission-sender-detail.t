#!/usr/bin/python3
# Submission (smtp-recv -r submission): after AUTH a user may send from
# their own address, its +detail forms, and the aliases that deliver to
# them; the same +detail rule now holds on both sides of an alias, as it
# does for RCPT: sales+orders@ is the alias sales@ (which mail to it
# reaches), and an alias whose target is u+lists@ delivers to u. Other
# users' addresses, their details, look-alike names and other domains
# stay refused (553 5.7.1), and so does u+sep@ when it is a user of its
# own (RCPT delivers there, not to u), and a catch-all's addresses.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=("example.test", "other.test"))
env.add_user("u@example.test", "secret pw")
env.add_user("v@example.test", "other pw")
env.add_user("u@other.test", "third pw")
env.add_user("u+sep@example.test", "fourth pw")   # a user of its own, not u's detail
env.run(["mailuser", "alias", "add", "sales@example.test", "u@example.test", "v@example.test"])
env.run(["mailuser", "alias", "add", "lists@example.test", "u+lists@example.test"])
env.run(["mailuser", "alias", "add", "vonly@example.test", "v@example.test"])
env.run(["mailuser", "alias", "add", "vdetail@example.test", "v+u@example.test"])
env.run(["mailuser", "alias", "add", "elsewhere@example.test", "u+x@other.test"])
env.run(["mailuser", "alias", "add", "uu@example.test", "uu+u@example.test"])
env.run(["mailuser", "alias", "add", "@other.test", "u@example.test"])
FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
QENV = {"QMAILQUEUE": os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp-fakeq"), "FAKEQ": FAKEQ,
        "TCPREMOTEIP": "192.0.2.9", "PIPEMAIL_LOGIN_DELAY_MS": "1"}
AUTH = b"EHLO x\r\nAUTH PLAIN " + base64.b64encode(b"\0u@example.test\0secret pw") + b"\r\n"

for sender, want in (("u@example.test", 250), ("u+x@example.test", 250), ("sales@example.test", 250),
                     ("sales+orders@example.test", 250), ("Sales+Orders@Example.TEST", 250),
                     ("lists@example.test", 250), ("lists+digest@example.test", 250),
                     ("v@example.test", 553), ("v+u@example.test", 553), ("vonly@example.test", 553),
                     ("vonly+u@example.test", 553), ("vdetail@example.test", 553),
                     ("elsewhere@example.test", 553), ("uu@example.test", 553), ("u@other.test", 553),
                     ("+sales@example.test", 553), ("salesx@example.test", 553),
                     ("u+sep@example.test", 553), ("U+Sep@example.test", 553), ("u+sep+x@example.test", 250),
                     ("anyone@other.test", 553)):
    r = env.run(["smtp-recv", "-r", "submission", "-P"], input=AUTH + b"MAIL FROM:<" + sender.encode() + b">\r\n",
                env=QENV, check=False)
    codes = pmtest.smtp_codes(r.stdout)
    t.eq(codes[2:], [235, want], "MAIL FROM:<%s> after AUTH as u@example.test: %d" % (sender, want))
t.done()
