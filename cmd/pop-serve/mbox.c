/* A POP3 view of one Maildir. Sizes come from ",W=" in the file name
 * when deliver-maildir wrote one, else the file is read once and
 * counted; messages are streamed from disk in fixed-size chunks, so a
 * session's memory does not grow with message size. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "die.h"
#include "maildir.h"
#include "mbox.h"

enum { CHUNK = 65536 };
enum { COMMIT_TRIES = 4 };   /* unlinks of one message at QUIT, renamed away meanwhile */
enum { MODE_DIR = 0700 };    /* a missing cur/, new/ or tmp/ */
enum { SWEEP_MAX = 1000 };   /* tmp/ entries looked at per login */
static const char lockname[] = "pipemail-pop3.lock";

struct ent {
	unsigned long long t;   /* leading seconds of the name: delivery order */
	unsigned long long us;  /* then the microseconds of "SECONDS.M<usec>", when present */
	struct mbox_msg m;
};

/* STAT's total saturates: a wrapped sum would tell the client a small
 * mailbox (it never goes below 0 on DELE: every size is <= the total) */
static void
total_add(struct mbox *mb, unsigned long long n)
{
	mb->total = n > ULLONG_MAX - mb->total ? ULLONG_MAX : mb->total + n;
}

/* What mbox_send adds after a message whose last byte is last: nothing
 * after LF, LF after a CR, CRLF after anything else. */
static unsigned
tail_extra(char last)
{
	return last == '\n' ? 0 : last == '\r' ? 1 : 2;
}

/* Size with CRLF line ends, as mbox_send sends it: every LF not already
 * preceded by CR gains one, and a last line without LF gains its end. */
static int
count_size(int fd, unsigned long long *out)
{
	static char b[CHUNK];
	unsigned long long n = 0;
	int prevcr = 0;
	char last = '\n';
	for (;;) {
		ssize_t r = read(fd, b, sizeof b);
		char *p, *e;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (unsigned long long)r;
		e = b + r;
		for (p = b; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) {
			int cr = p > b ? p[-1] == '\r' : prevcr;
			if (!cr)
				n++;
		}
		prevcr = b[r - 1] == '\r';
		last = b[r - 1];
	}
	*out = n + tail_extra(last);
	return 0;
}

/* A message file, opened for reading. O_NONBLOCK: a FIFO under a
 * message's name would block open(2) past every deadline (with the
 * mailbox lock held); anything but a regular file is refused (errno
 * EINVAL), as a symlink is (ELOOP). */
static int
open_reg(int dfd, const char *name)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static int
uid_ok(const char *u, size_t len)
{
	size_t i;
	if (len == 0 || len > MBOX_UIDL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] < 0x21 || (unsigned char)u[i] > 0x7e)
			return 0;
	return 1;
}

/* "h" and a 128-bit hash of u: derived from the name only, so stable */
static int
add_hash(struct str *names, const char *u, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h1 = 14695981039346656037ULL, h2 = 0x84222325cbf29ce4ULL;
	char out[34];
	size_t i;
	for (i = 0; i < len; i++) {
		h1 = (h1 ^ (unsigned char)u[i]) * 1099511628211ULL;
		h2 = (h2 ^ (unsigned char)u[i]) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
	}
	out[0] = 'h';
	for (i = 0; i < 16; i++) {
		out[1 + i] = hex[(h1 >> (60 - 4 * i)) & 15];
		out[17 + i] = hex[(h2 >> (60 - 4 * i)) & 15];
	}
	out[33] = 0;
	return str_catb(names, out, 34);
}

/* A unique part that cannot be a UIDL as it is becomes its hash. */
static int
add_uid(struct str *names, const char *u, size_t len)
{
	if (uid_ok(u, len))
		return str_catb(names, u, len) < 0 || str_catc(names, 0) < 0 ? -1 : 0;
	return add_hash(names, u, len);
}

static int
scan_dir(struct mbox *mb, const char *sub, struct ent **v, size_t *n, size_t *cap)
{
	int fd = openat(mb->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct maildir_name mn;
		struct ent *e;
		unsigned long long t = 0;
		const char *p;
		if (de->d_name[0] == '.' || maildir_name_parse(de->d_name, &mn) < 0)
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;   /* a directory, symlink or FIFO is no message */
		if (mn.flags && memchr(mn.flags, 'T', mn.flagslen))
			continue;   /* trashed: on its way out, not offered */
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			struct ent *nv;
			if (nc > SIZE_MAX / sizeof **v || !(nv = realloc(*v, nc * sizeof **v)))
				goto fail;
			*v = nv;
			*cap = nc;
		}
		e = *v + *n;
		memset(e, 0, sizeof *e);
		for (p = de->d_name; *p >= '0' && *p <= '9' && t < 100000000000ULL; p++)
			t = t * 10 + (unsigned long long)(*p - '0');
		e->t = t;
		if (p[0] == '.' && p[1] == 'M')
			for (p += 2; *p >= '0' && *p <= '9' && e->us < 100000000ULL; p++)
				e->us = e->us * 10 + (unsigned long long)(*p - '0');
		/* a ",W=" past any real message is no size (another program's
		 * name, or a hand-made one): counted from the file instead */
		if (mn.has_vsize && mn.vsize <= MBOX_SIZE_MAX) {
			e->m.size = mn.vsize;
		} else {
			int mfd = open_reg(fd, de->d_name);
			struct stat st;
			if (mfd < 0 && (errno == EACCES || errno == EPERM) &&
			    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
				/* a message we may not read (delivered with the wrong
				 * owner or mode): listed at its file size and refused
				 * at RETR, as one with W= is, rather than failing
				 * every login to the whole mailbox */
				e->m.size = (unsigned long long)st.st_size;
				goto named;
			}
			if (mfd < 0) {
				if (errno == ENOENT || errno == ELOOP || errno == EINVAL)
					continue;   /* moved away by another reader meanwhile, or no message */
				goto fail;
			}
			if (count_size(mfd, &e->m.size) < 0) {
				/* a read error (a bad sector) on one message: like
				 * one we may not read, listed and refused at RETR,
				 * so that the rest of the mailbox stays reachable */
				if (fstat(mfd, &st) < 0) {
					close(mfd);
					goto fail;
				}
				e->m.size = (unsigned long long)st.st_size;
			} else {
				e->m.tailok = 1;
			}
			close(mfd);
		}
named:
		e->m.name = mb->names.len;
		if (str_cats(&mb->names, sub) < 0 || str_catc(&mb->names, '/') < 0
		    || str_catb(&mb->names, de->d_name, strlen(de->d_name) + 1) < 0)
			goto fail;
		e->m.uid = mb->names.len;
		if (add_uid(&mb->names, mn.uniq, mn.uniqlen) < 0)
			goto fail;
		(*n)++;
	}
	if (errno) {
fail:
		{
			int e = errno;
			closedir(d);
			errno = e;
		}
		return -1;
	}
	closedir(d);
	return 0;
}

static const char *sortnames;

static int
cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->us != y->us)
		return x->us < y->us ? -1 : 1;
	/* then by unique part and name, so the order is the same every session */
	if ((c = strcmp(sortnames + x->m.uid, sortnames + y->m.uid)) != 0)
		return c;
	return strcmp(sortnames + x->m.name, sortnames + y->m.name);
}

/* One unique part in both new/ and cur/ (a mover that crashed between
 * link and unlink, another reader's copy) would give two messages one
 * UIDL. The first by name (cur/ before new/) keeps it; the others get
 * the hash of their whole name, stable while the names are. One file
 * under both names is the crashed mover's: its new/ name is removed, as
 * Dovecot does, and it is listed once. Twice in one
 * directory it is one message renamed (a flag change by another reader)
 * while readdir(3) ran, seen under its old and its new name: listed
 * once (whichever name is stale, open_msg finds the file again). */
static int
same_file(int dirfd, const char *a, const char *b)
{
	struct stat x, y;
	return fstatat(dirfd, a, &x, AT_SYMLINK_NOFOLLOW) == 0 && fstatat(dirfd, b, &y, AT_SYMLINK_NOFOLLOW) == 0
	    && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int
unique_uids(struct mbox *mb, struct ent *v, size_t *np)
{
	size_t n = *np, i, first = 0, out = n ? 1 : 0;
	for (i = 1; i < n; i++) {
		size_t off = mb->names.len;
		struct ent e = v[i];
		struct str nm = STR_INIT;
		int r;
		if (strcmp(mb->names.s + v[first].m.uid, mb->names.s + e.m.uid) != 0) {
			first = out;
			v[out++] = e;
			continue;
		}
		if (strncmp(mb->names.s + v[first].m.name, mb->names.s + e.m.name, 4) == 0)
			continue;   /* the same directory */
		if (same_file(mb->dirfd, mb->names.s + v[first].m.name, mb->names.s + e.m.name)
		    && unlinkat(mb->dirfd, mb->names.s + e.m.name, 0) == 0)
			continue;
		/* a copy: appending to the arena may move it */
		r = str_copys(&nm, mb->names.s + e.m.name) < 0 || add_hash(&mb->names, nm.s, nm.len) < 0 ? -1 : 0;
		str_free(&nm);
		if (r < 0)
			return -1;
		e.m.uid = off;
		e.m.shared = v[first].m.shared = 1;
		v[out++] = e;
	}
	*np = out;
	return 0;
}

/* One session per Maildir: an flock(2), which the kernel drops when the
 * session dies, however it dies, on the lock file and on the directory.
 * A full disk, a full quota or a read-only mount keeps the lock file
 * from being made, just when the user must log in to fetch and delete:
 * the directory's lock alone serves then, and since every session takes
 * it too, two sessions never both get in. -1 with errno (EWOULDBLOCK:
 * in use). */
static int
lock(struct mbox *mb)
{
	mb->lockfd = openat(mb->dirfd, lockname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (mb->lockfd < 0) {
		if (errno != ENOSPC && errno != EDQUOT && errno != EROFS)
			return -1;
		return flock(mb->dirfd, LOCK_EX | LOCK_NB);
	}
	if (flock(mb->lockfd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	/* a file system without flock(2) on directories still has the file's */
	if (flock(mb->dirfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		return -1;
	return 0;
}

/* A Maildir another tool made without cur/ (or new/, tmp/) would fail
 * every login: the missing ones are made, as Dovecot does, and an empty
 * directory read */
static int
scan_sub(struct mbox *mb, const char *sub, struct ent **v, size_t *n, size_t *cap)
{
	if (scan_dir(mb, sub, v, n, cap) == 0)
		return 0;
	if (errno != ENOENT || maildir_make(mb->path.s, MODE_DIR) < 0)
		return -1;
	return scan_dir(mb, sub, v, n, cap);
}

int
mbox_open(struct mbox *mb, const char *maildir)
{
	struct ent *v = NULL;
	size_t n = 0, cap = 0, i;
	int e;
	memset(mb, 0, sizeof *mb);
	mb->lockfd = -1;
	for (i = 0; i < MBOX_PREFETCH; i++)
		mb->pf_fd[i] = -1;
	mb->dirfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mb->dirfd < 0)
		return MBOX_ERR;
	if (str_copys(&mb->path, maildir) < 0)
		goto err;
	if (lock(mb) < 0) {
		if (errno == EWOULDBLOCK) {
			mbox_close(mb);
			return MBOX_INUSE;
		}
		goto err;
	}
	/* cur/ first: another reader moving a message from new/ to cur/
	 * between the two scans would otherwise have it listed twice (the
	 * client fetching it twice); this way it waits for the next login */
	if (scan_sub(mb, "cur", &v, &n, &cap) < 0 || scan_sub(mb, "new", &v, &n, &cap) < 0)
		goto err;
	/* a delivery killed midway leaves its file in tmp/; Maildir readers
	 * remove what is 36 hours old. Only disk space is at stake, so a
	 * failure here is no reason to refuse the login */
	(void)maildir_tmp_sweep(mb->dirfd, time(NULL), SWEEP_MAX);
	sortnames = mb->names.s;
	if (n)
		qsort(v, n, sizeof *v, cmp_ent);
	if (unique_uids(mb, v, &n) < 0)
		goto err;
	if (n && !(mb->msg = malloc(n * sizeof *mb->msg)))
		goto err;
	for (i = 0; i < n; i++) {
		mb->msg[i] = v[i].m;
		total_add(mb, v[i].m.size);
	}
	mb->count = n;
	mb->last_sent = n;
	free(v);
	return MBOX_OK;
err:
	e = errno;
	free(v);
	mbox_close(mb);
	errno = e;
	return MBOX_ERR;
}

void
mbox_close(struct mbox *mb)
{
	size_t k;
	for (k = 0; k < MBOX_PREFETCH; k++) {
		if (mb->pf_fd[k] >= 0)
			close(mb->pf_fd[k]);
		mb->pf_fd[k] = -1;
	}
	if (mb->lockfd >= 0)
		close(mb->lockfd);
	if (mb->dirfd >= 0)
		close(mb->dirfd);
	mb->lockfd = mb->dirfd = -1;
	free(mb->msg);
	mb->msg = NULL;
	str_free(&mb->names);
	str_free(&mb->path);
	mb->count = 0;
}

const char *
mbox_uid(const struct mbox *mb, unsigned long i)
{
	return mb->names.s + mb->msg[i].uid;
}

void
mbox_dele(struct mbox *mb, unsigned long i)
{
	if (mb->msg[i].deleted)
		return;
	mb->msg[i].deleted = 1;
	mb->ndeleted++;
	mb->total -= mb->msg[i].size;
}

void
mbox_rset(struct mbox *mb)
{
	unsigned long i;
	for (i = 0; i < mb->count; i++)
		if (mb->msg[i].deleted) {
			mb->msg[i].deleted = 0;
			total_add(mb, mb->msg[i].size);
		}
	mb->ndeleted = 0;
}

/* Is sub/name the current name of a listed message other than i? */
static int
other_msg(const struct mbox *mb, unsigned long i, const char *sub, const char *name)
{
	unsigned long j;
	for (j = 0; j < mb->count; j++) {
		const char *n = mb->names.s + mb->msg[j].name;
		if (j != i && strncmp(n, sub, 3) == 0 && strcmp(n + 4, name) == 0)
			return 1;
	}
	return 0;
}

/* Another reader (IMAP) may have renamed the file for new flags or moved
 * it to cur/ since the snapshot: find it again by its unique part. A
 * unique part two listed messages share (copies in new/ and cur/) must
 * not lead to the other one's file: DELE would remove a kept message. */
static int
refind(struct mbox *mb, unsigned long i, struct str *path)
{
	const char *old = mb->names.s + mb->msg[i].name + 4;
	size_t ulen = strcspn(old, ":");
	static const char *subs[] = { "cur", "new" };
	size_t k;
	for (k = 0; k < 2; k++) {
		int fd = openat(mb->dirfd, subs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d;
		struct dirent *de;
		if (fd < 0)
			continue;
		if (!(d = fdopendir(fd))) {
			close(fd);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, old, ulen) == 0 && (de->d_name[ulen] == ':' || de->d_name[ulen] == 0)
			    && !(mb->msg[i].shared && other_msg(mb, i, subs[k], de->d_name))) {
				int r = str_copys(path, subs[k]) < 0 || str_catc(path, '/') < 0
				    || str_cats(path, de->d_name) < 0 ? -1 : 0;
				closedir(d);
				return r < 0 ? -1 : 1;
			}
		}
		closedir(d);
	}
	return 0;
}

static int
open_msg(struct mbox *mb, unsigned long i)
{
	struct str path = STR_INIT;
	int fd = open_reg(mb->dirfd, mb->names.s + mb->msg[i].name);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (refind(mb, i, &path) == 1)
		fd = open_reg(mb->dirfd, path.s);
	else
		errno = ENOENT;
	str_free(&path);
	return fd;
}

/* A client fetching message after message: open the next few ahead and
 * ask the kernel to read them (POSIX_FADV_WILLNEED), so that on a cold
 * cache the disk works while this process sends. */
static void
prefetch(struct mbox *mb, unsigned long i)
{
	unsigned long j;
	for (j = i + 1; j < mb->count && j <= i + MBOX_PREFETCH; j++) {
		size_t k = j % MBOX_PREFETCH;
		int fd;
		if (mb->pf_fd[k] >= 0 && mb->pf_idx[k] == j)
			continue;
		if (mb->msg[j].deleted)
			continue;
		fd = open_reg(mb->dirfd, mb->names.s + mb->msg[j].name);
		if (fd < 0)
			continue;   /* open_msg finds it again when it is asked for */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		if (mb->pf_fd[k] >= 0)
			close(mb->pf_fd[k]);
		mb->pf_fd[k] = fd;
		mb->pf_idx[k] = j;
	}
}

static int
take_msg(struct mbox *mb, unsigned long i)
{
	size_t k = i % MBOX_PREFETCH;
	int fd;
	if (mb->pf_fd[k] >= 0 && mb->pf_idx[k] == i) {
		fd = mb->pf_fd[k];
		mb->pf_fd[k] = -1;
	} else {
		fd = open_msg(mb, i);
	}
	if (mb->last_sent + 1 == i)
		prefetch(mb, i);
	mb->last_sent = i;
	return fd;
}

/* A ",W=" size leaves out the line end mbox_send adds to a last line
 * without LF: look at the last byte once. */
static void
fix_tail(struct mbox *mb, unsigned long i, int fd)
{
	struct mbox_msg *m = mb->msg + i;
	struct stat st;
	char last;
	unsigned extra;
	if (m->tailok || fstat(fd, &st) < 0 || st.st_size <= 0 || pread(fd, &last, 1, st.st_size - 1) != 1)
		return;
	m->tailok = 1;
	extra = tail_extra(last);
	m->size += extra;
	if (!m->deleted)
		total_add(mb, extra);
}

/* After a whole RETR the size is known to the byte: a ",W=" that another
 * writer counted otherwise (a CR stored before LF counted as content)
 * is corrected, so that LIST and STAT tell what RETR sends from then on.
 * A RETRed message is not deleted, so its size is in the total (which
 * saturates: never below any one size). */
static void
resize(struct mbox *mb, unsigned long i, unsigned long long wire)
{
	struct mbox_msg *m = mb->msg + i;
	if (m->size == wire)
		return;
	mb->total -= m->size < mb->total ? m->size : mb->total;
	m->size = wire;
	total_add(mb, wire);
}

int
mbox_send(struct mbox *mb, unsigned long i, struct buf *out, unsigned long long lines)
{
	static char b[CHUNK];
	int fd = take_msg(mb, i);
	int bol = 1, prevcr = 0, inhdr = 1, done = 0, eof = 0, header = 0;
	size_t linelen = 0;
	unsigned long long body = 0, wire = 0;   /* wire: bytes sent but for dot-stuffing */
	unsigned long long got = 0, fsize = 0;   /* bytes read; the file's size, 0 unknown */
	struct stat st;
	if (fd < 0)
		return MBOX_SEND_NOFILE;
	fix_tail(mb, i, fd);
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		fsize = (unsigned long long)st.st_size;
	while (!done && !eof) {
		ssize_t r = read(fd, b, sizeof b);
		size_t pos = 0, n;
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			errno = e;
			/* before "+OK" the client can still be told -ERR; after
			 * it a truncated message must not look complete */
			return header ? MBOX_SEND_READ : MBOX_SEND_UNREADABLE;
		}
		/* "+OK" only once the file has given its first bytes */
		if (!header) {
			if (buf_puts(out, "+OK ") < 0 || buf_putu(out, mb->msg[i].size) < 0
			    || buf_puts(out, " octets\r\n") < 0)
				goto werr;
			header = 1;
		}
		if (r == 0)
			break;
		n = (size_t)r;
		wire += n;
		got += n;
		/* a short read that reached the size fstat gave is the end: saves
		 * a read per message; one before it (FUSE, a signal) is not */
		if (n < sizeof b && fsize && got >= fsize)
			eof = 1;
		while (pos < n) {
			char *nl;
			size_t seg;
			if (bol && b[pos] == '.' && buf_put(out, ".", 1) < 0)
				goto werr;
			nl = memchr(b + pos, '\n', n - pos);
			seg = nl ? (size_t)(nl - (b + pos)) : n - pos;
			if (seg) {
				if (buf_put(out, b + pos, seg) < 0)
					goto werr;
				prevcr = b[pos + seg - 1] == '\r';
				linelen += seg;
				bol = 0;
			}
			pos += seg;
			if (!nl)
				break;
			if (buf_put(out, prevcr ? "\n" : "\r\n", prevcr ? 1 : 2) < 0)
				goto werr;
			wire += !prevcr;
			pos++;
			/* a line just ended: the empty one (bare or CR) ends the header */
			if (lines != (unsigned long long)-1) {
				if (inhdr) {
					if (linelen == 0 || (linelen == 1 && prevcr)) {
						inhdr = 0;
						if (lines == 0)
							done = 1;
					}
				} else if (++body >= lines) {
					done = 1;
				}
			}
			bol = 1;
			prevcr = 0;
			linelen = 0;
			if (done)
				break;
		}
	}
	close(fd);
	/* the size counted this end: CR alone gains LF, anything else CRLF */
	if (!bol && buf_put(out, prevcr ? "\n" : "\r\n", prevcr ? 1 : 2) < 0)
		return MBOX_SEND_WRITE;
	if (buf_put(out, ".\r\n", 3) < 0)
		return MBOX_SEND_WRITE;
	if (lines == (unsigned long long)-1)
		resize(mb, i, wire + (bol ? 0 : prevcr ? 1 : 2));
	return 0;
werr:
	close(fd);
	return MBOX_SEND_WRITE;
}

/* new/NAME -> cur/NAME:2,S ; cur/NAME:2,FL -> cur/NAME:2,FLS (flags sorted) */
static int
seen_name(const char *name, struct str *to)
{
	const char *base = name + 4, *colon = strchr(base, ':');
	size_t blen = colon ? (size_t)(colon - base) : strlen(base);
	const char *fl = colon && colon[1] == '2' && colon[2] == ',' ? colon + 3 : "";
	int added = 0;
	if (colon && !(colon[1] == '2' && colon[2] == ','))
		return 0;   /* an info we do not understand: leave it alone */
	if (strchr(fl, 'S') && strncmp(name, "cur/", 4) == 0)
		return 0;
	if (str_copys(to, "cur/") < 0 || str_catb(to, base, blen) < 0 || str_cats(to, ":2,") < 0)
		return -1;
	for (; *fl; fl++) {
		if (!added && *fl > 'S') {
			if (str_catc(to, 'S') < 0)
				return -1;
			added = 1;
		}
		if (*fl == 'S')
			added = 1;
		if (str_catc(to, *fl) < 0)
			return -1;
	}
	if (!added && str_catc(to, 'S') < 0)
		return -1;
	return 1;
}

/* 0, or -1 when a directory could not be synced */
static int
sync_dirs(struct mbox *mb)
{
	static const char *subs[] = { "new", "cur" };
	size_t k;
	int r = 0;
	for (k = 0; k < 2; k++) {
		int fd = openat(mb->dirfd, subs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			r = -1;
		if (fd >= 0)
			close(fd);
	}
	return r;
}

/* What the Maildir++ quota counts for sub/NAME: its ",S=", else its
 * file size (as maildir_quota_recalc counts) */
static unsigned long long
quota_size(int dirfd, const char *path)
{
	struct maildir_name mn;
	struct stat st;
	if (maildir_name_parse(path + 4, &mn) == 0 && mn.has_size)
		return mn.size;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (unsigned long long)st.st_size;
}

unsigned long
mbox_commit(struct mbox *mb, unsigned long *deleted)
{
	struct str path = STR_INIT;
	unsigned long i, failed = 0;
	unsigned long long bytes = 0, count = 0;   /* removed here, for maildirsize */
	*deleted = 0;
	for (i = 0; i < mb->count; i++) {
		struct mbox_msg *m = mb->msg + i;
		const char *name = mb->names.s + m->name;
		int gone = -1, tries;   /* 1 removed or gone, 0 failed, -1 not known yet */
		if (!m->deleted)
			continue;
		/* renamed away by another client: found again and removed under
		 * its new name, which may change once more meanwhile; a message
		 * that is still there after that gets -ERR, never +OK */
		for (tries = 0; gone < 0 && tries < COMMIT_TRIES; tries++) {
			int r;
			const char *p = tries ? path.s : name;
			unsigned long long sz = quota_size(mb->dirfd, p);
			if (unlinkat(mb->dirfd, p, 0) == 0) {
				gone = 1;
				if (sz < MBOX_SIZE_MAX && bytes < MBOX_SIZE_MAX)
					bytes += sz;
				count++;
			} else if (errno != ENOENT)
				gone = 0;
			else if ((r = refind(mb, i, &path)) == 0)
				gone = 1;   /* found nowhere: another session expunged it */
			else if (r < 0)
				gone = 0;
		}
		if (gone == 1)
			(*deleted)++;
		else
			failed++;
	}
	/* the deletions are durable before +OK; if that is not known, none is done */
	if (*deleted && sync_dirs(mb) < 0)
		failed += *deleted;
	/* else the next delivery would go by the old usage (for up to 15
	 * minutes, maildirsize's staleness) and refuse mail to a Maildir
	 * just emptied; a cache: a failure here costs no mail. One that
	 * another session expunged is its to record. */
	else if (count && maildir_quota_add(mb->path.s, -(long long)bytes, -(long long)count) < 0)
		warn_sys("update quota of", mb->path.s);
	str_free(&path);
	return failed;
}

/* I4: a copy of the same message already in cur/ under the target name
 * is not replaced; link+unlink where RENAME_NOREPLACE is unsupported. */
static int
rename_noreplace(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dfd, from, dfd, to, 0) < 0)
		return -1;
	(void)unlinkat(dfd, from, 0);
	return 0;
}

int
mbox_mark_seen(struct mbox *mb, unsigned long i)
{
	struct str to = STR_INIT;
	struct mbox_msg *m = mb->msg + i;
	const char *name = mb->names.s + m->name;
	size_t off = mb->names.len;
	int r;
	/* another file in cur/ has its unique part: moved there, the two
	 * would share it in cur/ and one be hidden from then on (listed
	 * once); left in new/, it keeps its own UIDL */
	if (m->shared && strncmp(name, "new/", 4) == 0)
		return 0;
	r = seen_name(name, &to);
	if (r == 1 && rename_noreplace(mb->dirfd, name, to.s) == 0) {
		/* remember the new name; the old bytes stay in the arena unused */
		if (str_catb(&mb->names, to.s, to.len + 1) == 0)
			m->name = off;
		r = 1;
	} else if (r == 1) {
		r = 0;   /* renamed by another reader meanwhile: it keeps its own flags */
	}
	str_free(&to);
	return r;
}
