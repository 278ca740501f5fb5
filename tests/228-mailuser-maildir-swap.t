#!/usr/bin/python3
# mailuser add makes the new user's Maildir as root. It made each
# directory with mkdir(2), then set its mode by name (fchmodat follows a
# symbolic link) and its owner: whoever may write the directory that
# holds it (the mail user, when the domain's directory is the mail
# user's) could swap the new directory for a link in between and have
# root chmod any file, a 0600 secret to 0755 or 0700. Now each directory
# is opened, without following a link, and changed through that
# descriptor; a link found in place of a directory fails the command
# (111) and changes nothing. strace holds every mkdir's return for a
# moment so the swap lands inside that window.
import os, stat, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
if not pmtest.strace_usable():
    t.skip_all("strace cannot trace here")
if os.getuid() != 0:
    t.skip_all("needs root: mailuser chowns the Maildir it makes")
env = pmtest.Env()
U = ["-u", str(pmtest.MAILUID), "-g", str(pmtest.MAILGID)]


def add(maildir, addr):
    argv = ["strace", "-f", "-o", "/dev/null", "-e", "inject=mkdirat,mkdir:delay_exit=300000",
            pmtest.bin("mailuser"), "add"] + U + ["-d", maildir, addr]
    return subprocess.run(argv, input=b"pw\n", env=env.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=60)


def swapper(path, target, done):
    """Replace the directory path, as soon as it appears, by a link to target."""
    end = time.time() + 20
    while time.time() < end and not done.is_set():
        if os.path.isdir(path) and not os.path.islink(path):
            os.rename(path, path + ".moved")
            os.symlink(target, path)
            return
        time.sleep(0.001)


dom = env.path("dom")              # a directory the attacker may write
os.mkdir(dom, 0o777)
for name, mode, box in (("secret", 0o600, "box1"), ("other", 0o640, "box2")):
    victim = env.path(name)
    with open(victim, "w") as f:
        f.write("x\n")
    os.chmod(victim, mode)
    done = threading.Event()
    th = threading.Thread(target=swapper, args=(os.path.join(dom, box), victim, done))
    th.start()
    r = add(os.path.join(dom, box), box + "@example.test")
    done.set()
    th.join()
    st = os.stat(victim)
    t.eq(oct(stat.S_IMODE(st.st_mode)), oct(mode), "%s: a link swapped in for the new Maildir: its target's mode kept" % name)
    t.eq((st.st_uid, st.st_gid), (0, 0), "%s: ... and its owner" % name)
    t.ok(os.path.islink(os.path.join(dom, box)), "(the swap happened)")
    t.eq(r.returncode, 111, "%s: mailuser add fails, 111" % name)
    t.ok(env.run(["mailuser", "check", box + "@example.test"], check=False).returncode != 0,
         "%s: no user added" % name)

# the parents mailuser makes: a link there is refused the same way
victim = env.path("secret2")
with open(victim, "w") as f:
    f.write("x\n")
os.chmod(victim, 0o600)
done = threading.Event()
th = threading.Thread(target=swapper, args=(os.path.join(dom, "p"), victim, done))
th.start()
r = add(os.path.join(dom, "p", "q", "Maildir"), "box3@example.test")
done.set()
th.join()
t.eq(oct(stat.S_IMODE(os.stat(victim).st_mode)), "0o600", "a link swapped in for a parent: its target's mode kept")

# without interference the Maildir is made as before (control)
r = add(os.path.join(dom, "ok", "Maildir"), "box4@example.test")
t.ok(r.returncode == 0, "control: a plain add under strace works", r.stderr)
m = os.path.join(dom, "ok", "Maildir")
st = os.stat(m)
t.eq((oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid), ("0o700", pmtest.MAILUID, pmtest.MAILGID),
     "control: the Maildir is 0700 and the user's")
t.eq(oct(stat.S_IMODE(os.stat(os.path.join(dom, "ok")).st_mode)), "0o755", "control: its parent 0755")
t.ok(all(os.path.isdir(os.path.join(m, s)) for s in ("tmp", "new", "cur")), "control: tmp, new, cur")
t.done()
