#!/usr/bin/python3
"""smtp-send when the routes file's host has no address: that is this
system's configuration (a typo, or the smarthost's name failing for a
while), not the recipient's domain, so every recipient must stay queued
(temp), never bounce (perm) the way a domain whose MX hosts do not exist
does. Same for a route host that has addresses of the other family only."""
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.TAP()
env = pmtest.Env(domains=())


def send(route, args=()):
    with open(os.path.join(env.conf, "routes"), "w") as f:
        f.write(route + "\n")
    r = subprocess.run([pmtest.bin("smtp-send"), "-f", "a@b.test", "-w", "5", *args, "example.org",
                        "x@example.org", "y@example.org"], input=b"Subject: x\r\n\r\nbody\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env.env, timeout=60)
    return r.returncode, [l.split(" ", 4) for l in r.stdout.decode(errors="replace").splitlines()]


rc, out = send("example.org:nonexistent.invalid:2525")
t.eq((rc, [o[0] for o in out]), (111, ["temp", "temp"]), "route host without an address: every recipient temp")
t.ok(all(o[2].startswith("4.") for o in out), "route host without an address: class 4 enhanced code", out)
rc, out = send("*:nonexistent.invalid:587")
t.eq((rc, [o[0] for o in out]), (111, ["temp", "temp"]), "smarthost without an address: every recipient temp")
rc, out = send("example.org:[::1]:2525", ("-4",))
t.eq((rc, [o[0] for o in out]), (111, ["temp", "temp"]), "IPv6 route host with -4: temp, not a bounce")
t.done()
