/* Maildir and Maildir++: the one delivery routine every writer uses,
 * unique names, folder paths, and parsing of file names.
 *
 * Delivery: maildir_tmp_open() makes a file in tmp/ (an unnamed one,
 * O_TMPFILE, where the file system and /proc allow: no name in tmp/ to
 * create, unlink, or leave behind on a crash, and no writer contending
 * for tmp/'s lock; else tmp/NAME, created exclusively); the caller writes
 * to t.fd; maildir_tmp_commit() fsyncs the file, links it into new/ (or
 * cur/) — never renaming onto an existing name — removes the tmp name if
 * any and fsyncs the target directory. Only after it returns 0 is the
 * message on stable storage. Any failure leaves nothing in new/ or cur/
 * and removes the tmp file. */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <stddef.h>
#include <sys/types.h>
#include "str.h"

struct maildir_tmp {
	int fd;               /* open for writing, or -1 */
	struct str dir;       /* the maildir */
	struct str uniq;      /* unique part of the name */
	struct str tmppath;   /* dir/tmp/uniq; empty for an unnamed file */
	int anon;             /* t.fd is an unnamed O_TMPFILE file */
};

/* 0: never O_TMPFILE (tests of the named path; default 1) */
extern int maildir_use_tmpfile;

/* Create dir and its tmp, new, cur (mode for each; existing ones are fine).
 * 0 ok, -1 errno. */
int maildir_make(const char *dir, mode_t mode);

/* Maildir++ folder: out = maildir "/." name, where name is a folder name
 * such as "Junk" or "Lists.Work" (IMAP hierarchy separator '.'); 0.
 * "INBOX" (any case) is the Maildir itself: out = maildir, and 1;
 * "INBOX.name" is name. Refuses (-1, EINVAL) empty names, '/', a leading
 * '.', "..", control bytes, names too long for one directory entry,
 * and "qmail" (.qmail is the user's delivery file). */
int maildir_folder_path(struct str *out, const char *maildir, const char *folder);

/* A new unique name: SECONDS.M<usec>P<pid>Q<counter>.<host>, host with
 * '/' and ':' made safe and cut short enough that a name with ",S=",
 * ",W=" and flags stays within NAME_MAX. Unique across hosts, pids, and clock jumps
 * (the counter and the exclusive create in tmp/ guard the rest; a name
 * picked again after a collision has R<random hex> after the counter). */
int maildir_uniq(struct str *out);

int maildir_tmp_open(struct maildir_tmp *, const char *dir);
/* Commits in this process and its children share directory syncs through
 * g (lib/groupsync.h): queue-run's local workers. NULL: each its own. */
struct groupsync;
void maildir_sync_group(struct groupsync *g);
/* subdir "new" or "cur"; info e.g. "2,S" (appended as ":2,S") or NULL.
 * size: adds ",S=<size>" (file size) to the name; vsize (size with CRLF
 * line ends) adds ",W=<vsize>" when not (size_t)-1.
 * final_name (optional) receives the file name within subdir. */
int maildir_tmp_commit(struct maildir_tmp *, const char *subdir, const char *info,
    size_t vsize, struct str *final_name);
void maildir_tmp_abort(struct maildir_tmp *);   /* close, unlink tmp, free */

/* Maildir's rule for readers: a file left in tmp/ (a writer killed
 * mid-delivery) that no one has touched for 36 hours is removed. Looks at
 * no more than max entries of dirfd's tmp/ (a reader's login must stay
 * cheap however much is there); regular files only. Returns how many were
 * removed, -1 errno when tmp/ cannot be read. */
int maildir_tmp_sweep(int dirfd, time_t now, unsigned max);
void maildir_tmp_free(struct maildir_tmp *);

struct maildir_name {
	const char *uniq;     /* unique part: up to the first ',' or ':' */
	size_t uniqlen;
	const char *flags;    /* after ":2,", or NULL */
	size_t flagslen;
	unsigned long long size;   /* from ",S=", valid if has_size */
	unsigned long long vsize;  /* from ",W=", valid if has_vsize */
	int has_size, has_vsize;
};

/* Parse a file name from new/ or cur/. 0 ok, -1 malformed (e.g. starts with '.'). */
int maildir_name_parse(const char *name, struct maildir_name *out);

/* Maildir++ quota (the maildirsize file). Line 1 is the quota, e.g.
 * "1000000S,1000C"; every further line is "BYTES COUNT", a delta appended
 * by each writer. The file is a cache: a corrupt, oversized (> 5120 bytes)
 * or stale one is recalculated from the Maildir and its folders, written
 * in tmp/ and renamed into place. */
struct maildir_quota {
	unsigned long long max_bytes, max_count;   /* 0: no limit of that kind */
	long long bytes, count;                     /* current usage */
	int active;                                 /* a quota is in force */
	int stale;        /* usage from a maildirsize older than 15 minutes */
};

/* Parse a quota: plain bytes ("1000000") or Maildir++ ("1000000S,1000C").
 * 0 ok, -1 malformed (EINVAL). "0" or "" means no quota. */
int maildir_quota_parse(const char *spec, struct maildir_quota *q);

/* Load the quota of maildir (the top Maildir, not a folder). spec, when
 * not NULL, is the admin's quota and replaces the file's line 1 (the file
 * is rewritten when they differ). Without spec and without maildirsize,
 * q->active is 0. 0 ok, -1 errno. */
int maildir_quota_get(const char *maildir, const char *spec, struct maildir_quota *q);

/* 1 when adding bytes/count would exceed the quota, else 0. */
int maildir_quota_over(const struct maildir_quota *q, unsigned long long bytes, unsigned long long count);

/* 1 when adding bytes/count would exceed the quota, else 0; a stale
 * usage (q->stale) is recounted first (Maildir++), since only deliveries
 * write maildirsize and mail taken away since then leaves it too high. */
int maildir_quota_check(const char *maildir, struct maildir_quota *q, unsigned long long bytes,
    unsigned long long count);

/* Record a delivery (or a removal with negative values): one O_APPEND
 * write to maildirsize when the file exists. 0 ok, -1 errno. */
int maildir_quota_add(const char *maildir, long long bytes, long long count);

/* Recount the Maildir and every folder and rewrite maildirsize with
 * q's limits; q's usage is updated. 0 ok, -1 errno. */
int maildir_quota_recalc(const char *maildir, struct maildir_quota *q);

#endif
