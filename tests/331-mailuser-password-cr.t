#!/usr/bin/python3
# mailuser passwd/add refuse a password no server could ever take: pop-serve
# (PASS) and SASL PLAIN and LOGIN refuse CR inside a password, so a CR left
# in it after the line's end is removed ("pw\r\r\n", "a\rb\n") would lock
# the user out while mailuser reported success. The old hash stays.
# A final CR LF or LF is still removed, and other control bytes (a TAB)
# are kept, as before. Passwords come from stdin, never argv.
import base64, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env()
USER = "u@example.test"
env.add_user(USER, "first pw")
users = env.path("conf", "users")


def hash_of(addr):
    with open(users) as f:
        for line in f:
            if line.startswith(addr + ":"):
                return line.split(":")[1]
    return None


h0 = hash_of(USER)
for inp, name in ((b"pw\r\r\n", "a CR before the final CR LF"), (b"a\rb\n", "a CR inside"),
                  (b"\r\n", "only a CR")):
    r = env.run(["mailuser", "passwd", USER], input=inp, check=False)
    t.eq(r.returncode, 100, "passwd: %s refused (exit 100)" % name)
    t.eq(hash_of(USER), h0, "passwd: %s leaves the old hash" % name)
r = env.run(["mailuser", "add", "-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID), "-d", env.path("mail", "w"),
             "w@example.test"], input=b"x\ry\n", check=False)
t.eq((r.returncode, hash_of("w@example.test")), (100, None), "add: a CR in the password refused, no user added")

r = env.run(["mailuser", "passwd", USER], input=b"tab\there\r\n", check=False)
t.eq(r.returncode, 0, "a TAB kept, the final CR LF removed")
t.ok(hash_of(USER) != h0, "the hash replaced")
port = env.server(["pop-serve", "-P"], env={"PIPEMAIL_LOGIN_DELAY_MS": "1"})
p = pmtest.PopRaw(port)
a = p.login(USER, "tab\there")
t.ok(a.startswith(b"+OK"), "and that password logs in", a)
p.cmd(b"QUIT")
p.close()
t.ok("tab" not in env.log(port), "no password in the log")
t.done()
