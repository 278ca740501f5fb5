#!/usr/bin/python3
# Which password hashes log in (THREATS I13, "right password only"): any
# "$id$" scheme crypt(3) knows checks the whole password, so yescrypt
# (which mailuser writes), SHA-512-crypt and bcrypt do, and so do the weak
# MD5-crypt and NT of a hand-edited users file. DES and its kin (no "$id$")
# never match, not even with the right password: traditional DES reads
# only the first 8 bytes of a password, so "password" + anything would log
# in. Such a user, like a locked one ('*', '!'), is refused by POP and by
# SMTP AUTH alike; mailuser rebuild warns of each DES-family hash (no
# login) and each weak one (set a new password), so that the admin who
# imported them knows.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
env.add_user("y@example.test", "password")
# crypt(3) of "password" in each scheme (libxcrypt 4.4)
HASHES = {
    "sha512": "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
    "bcrypt": "$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
    "des": "abJnggxhB/yWI",
    "md5": "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/",
    "nt": "$3$$8846f7eaee8fb117ad06bdd830b7586c",
    "bsdi": "_J9..saltJW8FtKdEkNM",
    "locked": "!$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
}
# each user made by mailuser, then its hash swapped in the text file and
# the database recompiled, as an admin importing old hashes would
for name in HASHES:
    env.add_user(name + "@example.test", "placeholder")
r = env.set_hashes({n + "@example.test": h for n, h in HASHES.items()})
err = r.stderr.decode(errors="replace")
dead = sorted(n for n in HASHES if "user %s@example.test: a password hash of the DES family" % n in err)
weak = sorted(n for n in HASHES if "user %s@example.test: a password hash of a weak scheme" % n in err)
t.eq((dead, weak), (["bsdi", "des"], ["md5", "nt"]), "rebuild warns of each old hash, not of current or locked ones")
t.eq(err.count("mailuser: warning: "), 4, "and of nothing else")
port = env.server(["pop-serve", "-P", "-f", "100"], env={"PIPEMAIL_LOGIN_DELAY_MS": "0"})


def pop_login(user, pw):
    r = pmtest.PopRaw(port)
    a = r.login(user, pw)
    r.cmd(b"QUIT")
    r.close()
    return a.startswith(b"+OK")


for name, want in (("y", True), ("sha512", True), ("bcrypt", True), ("des", False), ("md5", True),
                   ("nt", True), ("bsdi", False), ("locked", False)):
    t.eq(pop_login(name + "@example.test", "password"), want,
         "%s hash with the right password: %s" % (name, "logs in" if want else "refused"))
t.eq(pop_login("des@example.test", "passwordXYZ"), False, "DES: a longer password with the same 8 bytes refused")
t.eq(pop_login("md5@example.test", "passwordXYZ"), False, "MD5-crypt: a longer password refused")
t.eq(pop_login("Y@Example.TEST", "password"), True, "the user name in any case")

FAKEQ = env.path("fakeq")
os.mkdir(FAKEQ)
QENV = {"QMAILQUEUE": os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp-fakeq"), "FAKEQ": FAKEQ,
        "TCPREMOTEIP": "192.0.2.9", "PIPEMAIL_LOGIN_DELAY_MS": "0"}
for name, want in (("sha512", 235), ("des", 535), ("md5", 235)):
    plain = base64.b64encode(b"\0" + name.encode() + b"@example.test\0password")
    r = env.run(["smtp-recv", "-P"], input=b"EHLO x\r\nAUTH PLAIN " + plain + b"\r\nQUIT\r\n", env=QENV, check=False)
    t.eq(pmtest.smtp_codes(r.stdout)[2], want, "SMTP AUTH, %s hash: %d" % (name, want))
t.ok("password" not in env.log(port), "no password in pop-serve's log")
t.done()
