#!/usr/bin/python3
# queue-run's local delivery (in-process: lib/maildeliver, lib/maildir,
# the workers' shared directory syncs of lib/groupsync) and then the
# removal of the queue file, under a power loss at any moment: the
# Maildir's new/ entry and its inode must be on disk before the queue
# file goes, so that a message whose queue file a crash took is in the
# Maildir, whole; a crash between the delivery and the removal delivers it
# again at most (a duplicate), never loses it. Two dozen messages, half
# queued before queue-run starts and half while it runs, are delivered
# while the image is copied (tests/pmtest.py's CrashFS) at moments through
# the run, queue-run's processes stopped for each copy, and once more after
# the last removal. Each copy, fsck'd, is looked at (every message queued
# in the Maildir whole, or still queued), then queue-run runs on it: every
# message ends in the Maildir once or twice. On ext4 without a journal and
# with one.
# Without a journal the emptied pool files were the trouble: their inodes
# on disk still claimed the blocks new queue files and deliveries had been
# given, e2fsck copied such blocks to blocks it believed free, and some of
# those belonged to Maildir files whose inodes it had not looked at yet
# (the group descriptor on disk, which only a full sync writes, still
# counted them unused): a delivered message overwritten with queue file
# bytes, and its queue file gone. Emptied files are now fsync'd (queue.h).
import os, re, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmtest

t = pmtest.crash_tap()   # from here on in a mount namespace of its own
N, SNAPS = 24, 8
BODY = b"".join(b"line %06d of the message body, which spans several blocks\n" % i for i in range(1500))
env = pmtest.Env()


def message(tag):
    return b"Subject: " + tag + b"\n\n" + BODY


def tags():
    return [b"deliver-crash-%02d" % i for i in range(N)]


def queued_tags(queue):
    """the tags of the whole queue files in mess/ (what queue-run would
    deliver), and how many others there are (a crash's leftovers: files
    whose removal and emptying did not reach the disk, blocks since
    reused; queue-run never delivers them, their CRC tells)"""
    out, other = set(), 0
    d = os.path.join(queue, "mess")
    for f in os.listdir(d) if os.path.isdir(d) else []:
        try:
            m = pmtest.queue_file_message(os.path.join(d, f))
        except FileNotFoundError:
            continue   # delivered and removed since the listing by the queue-run waited on
        tag = m and re.match(rb"Subject: (deliver-crash-\d\d)\n", m)
        if tag:
            out.add(tag.group(1))
        else:
            other += 1
    return out, other


def maildir_tags(md):
    """tag -> copies in new/; and the names of files that are not whole"""
    count, torn = {}, []
    for f in pmtest.maildir_files(md):
        b = open(f, "rb").read()
        m = re.search(rb"^Subject: (deliver-crash-\d\d)$", b, re.M)
        if m and b.endswith(BODY):
            count[m.group(1)] = count.get(m.group(1), 0) + 1
        else:
            torn.append(os.path.basename(f))
    return count, torn


def run_queue(log):
    return pmtest.queue_run_group(env, log, "-b", "1", "-l", "2")


for journal in (False, True):
    fs, md, kind = pmtest.crash_queue(env, journal, "demo%d@example.test" % journal, size_mb=24)
    rcpt = ["demo%d@example.test" % journal]
    refused = [tag for tag in tags()[:N // 2] if pmtest.queue_add(env, "s@sender.test", rcpt, message(tag)) != 0]
    fs.settle()
    log = env.path("queue-run-%d.log" % journal)
    qr = run_queue(log)
    # the other half queued while it runs: each queue-add's sync of mess/
    # writes the removals made so far too, as on a busy server
    later, snaps, seen, acked = tags()[N // 2:], [], [], []
    end = time.monotonic() + 15
    while time.monotonic() < end:
        done = len(pmtest.log_event(open(log, "rb").read().decode(errors="replace"), "done"))
        if len(snaps) < SNAPS:
            snaps.append(fs.snapshot(stop_groups=[qr.pid]))
            seen.append(done)
            acked.append(tags()[:N - len(later)])
        if done >= N:
            break
        if later:
            tag = later.pop(0)
            refused += [tag] if pmtest.queue_add(env, "s@sender.test", rcpt, message(tag)) != 0 else []
        time.sleep(0.01)
    t.eq(refused, [], "%s: queue-add took every message" % kind)
    t.ok(done >= N, "%s: queue-run delivered all %d" % (kind, N))
    snaps.append(fs.snapshot(stop_groups=[qr.pid]))   # after every removal
    seen.append(done)
    acked.append(tags())
    pmtest.stop_group(qr)
    t.diag("%s: copies taken with %s messages finished" % (kind, seen))

    lost, torn, counts, leftovers = [], [], [], []
    for i, snap in enumerate(snaps):
        rc, text = fs.fsck(snap)
        if rc not in (0, 1):
            continue
        at = fs.mount(snap, rw=True, at=fs.mnt)   # the users table's Maildir path leads into the copy
        have, bad = maildir_tags(md)
        queued, other = queued_tags(env.queue)
        leftovers.append(other)
        lost += ["copy %d (%d finished): %s neither delivered nor queued; fsck: %s" %
                 (i, seen[i], tag.decode(), pmtest.fsck_lost(text)) for tag in acked[i] if tag not in have and
                 tag not in queued]
        torn += ["copy %d: %s" % (i, x) for x in bad]
        qr = run_queue(log)
        pmtest.wait_for(lambda: not queued_tags(env.queue)[0], 10)
        pmtest.stop_group(qr)
        have, bad = maildir_tags(md)
        counts.append(sorted(have.get(tag, 0) for tag in acked[i]))
        fs.unmount(at)
        os.unlink(snap)
    fs.fsck_verdicts(t, kind)
    t.ok(not lost, "%s: in every copy each message is in the Maildir or still queued" % kind, "\n".join(lost))
    t.ok(not torn, "%s: no copy has a partial message in the Maildir" % kind, "\n".join(torn))
    t.ok(all(c and c[0] >= 1 and c[-1] <= 2 for c in counts),
         "%s: queue-run on each copy: every message delivered once or twice" % kind, counts)
    t.diag("%s: copies per message after queue-run on each crashed copy: %s" % (kind, counts))
    t.diag("%s: queue files a crash left that are not mail (CRC): %s" % (kind, leftovers))
t.done()
