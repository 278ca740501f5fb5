#!/usr/bin/python3
# A report that queue-add will not take is not retried for ever. As
# qmail-send does with a bounce it cannot deliver: a failure report to the
# sender refused for good (a permanent queue-add code: a bad address)
# goes to the postmaster (doublebounceto) as a double bounce; a double
# bounce refused for good, or still not queued a queue lifetime after its
# first try, is logged and dropped. Before, each was tried again every
# retry_base seconds for as long as queue-run ran: the message never left.
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest
from pmtest import wait_for, queue_files, maildir_files, log_event

t = pmtest.TAP()


def fake_queue_add(env, refuse, code):
    """a queue-add that exits code for envelopes whose sender is one of
    refuse (b"" the bounce's, b"#@[]" the double bounce's), counting its
    calls, and hands the rest to the real one"""
    calls, fake = env.path("calls"), env.path("fake-queue-add")
    with open(fake, "w") as f:
        f.write(pmtest.queueadd_stub("""with open(%r, "a") as c:
    c.write(envl.split(b"\\0")[0][1:].decode() + "\\n")
if envl.split(b"\\0")[0][1:] in %r:
    sys.exit(%d)
""" % (calls, refuse, code)))
    os.chmod(fake, 0o755)
    return fake, calls


def run(name, sender, refuse, code, opts=()):
    """queue one message to a missing user, run queue-run until the queue
    empties; (its log, the senders queue-add saw, the postmaster's maildir)"""
    env = pmtest.Env()
    pm = env.add_user("pm@example.test", "pw")
    with open(os.path.join(env.conf, "doublebounceto"), "w") as f:
        f.write("pm@example.test\n")
    fake, calls = fake_queue_add(env, refuse, code)
    t.ok(pmtest.queue_add(env, sender, ["nobody@example.test"], b"Subject: x\n\nbody\n") == 0, name + ": queued")
    logp = env.path("qr.log")
    qr = env.start([pmtest.bin("queue-run"), "-b", "1"] + list(opts), env={"PIPEMAIL_QUEUEADD": fake},
                   stderr=open(logp, "wb"))
    t.ok(wait_for(lambda: not queue_files(env), 30), name + ": the queue empties", queue_files(env))
    qr.terminate()
    t.eq(qr.wait(20), 0, name + ": queue-run stops")
    log = open(logp, "rb").read().decode(errors="replace")
    seen = open(calls).read().splitlines() if os.path.exists(calls) else []
    return log, seen, pm


# the bounce refused for good: a double bounce, which is queued and delivered
log, seen, pm = run("bounce refused", "sender@example.org", [b""], 31)
t.eq(seen, ["", "#@[]"], "queue-add saw the bounce once, then the double bounce")
t.eq(len(maildir_files(pm)), 1, "the postmaster has the report")
ev = [d for d in log_event(log, "report") if d.get("result") == "refused"]
t.ok(ev and ev[0].get("to") == "sender@example.org" and ev[0].get("next") == "postmaster" and
     ev[0].get("kind") == "failure", "the refusal is logged, and where the report goes now", log)
q = [d for d in log_event(log, "report") if d.get("result") == "queued"]
mail = open(maildir_files(pm)[0], "rb").read().decode(errors="replace") if maildir_files(pm) else ""
t.ok(len(q) == 1 and q[0].get("to") == "pm@example.test" and q[0].get("kind") == "failure" and
     q[0].get("id") == ev[0].get("id") and q[0].get("msgid", "").startswith("<") and
     "\nMessage-ID: %s\n" % q[0].get("msgid") in mail,
     "the double bounce queued is logged once, with the Message-ID it was delivered with", log)

# both refused for good: the double bounce is logged and dropped
log, seen, pm = run("both refused", "sender@example.org", [b"", b"#@[]"], 31)
t.eq(seen, ["", "#@[]"], "queue-add saw each once: no loop")
t.eq(maildir_files(pm), [], "nothing delivered")
ev = log_event(log, "discard")
t.ok(ev and ev[-1].get("to") == "pm@example.test" and ev[-1].get("result") == "refused" and
     "31" in ev[-1].get("reason", ""), "the drop is logged with its reason", log)

# a double bounce that fails temporarily is dropped after the queue lifetime
log, seen, pm = run("double bounce late", "", [b"#@[]"], 71, ["-L", "2"])
t.ok(len(seen) >= 2 and set(seen) == {"#@[]"}, "tried again before the lifetime was out", seen)
ev = log_event(log, "discard")
t.ok(ev and ev[-1].get("result") == "expired" and ev[-1].get("to") == "pm@example.test",
     "the drop after the lifetime is logged", log)
t.done()
