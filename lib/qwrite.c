/* One message into the queue: see qwrite.h and lib/queue.h.
 * The file is taken from pool/ (or created) in place under mess/,
 * written once, the header last; then one fsync of the file and one of
 * mess/, and only then new/ID, the notice that wakes queue-run (its
 * start-up scan reads mess/), so it needs no fsync of its own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>   /* renameat2 */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "exitcode.h"
#include "qwrite.h"
#include "smtpaddr.h"
#include "str.h"

enum { ID_TRIES = 20, POOL_TRIES = 16 };

static int
fail(struct qwrite *w, int code, int err, const char *verb, const char *obj, const char *why)
{
	if (w->code == QQ_OK) {
		w->code = code;
		w->err = err;
		w->verb = verb;
		w->obj = obj;
		w->why = why;
	}
	errno = w->err;
	return w->code;
}

static int
write_err(int e)
{
	return e == ENOMEM ? QQ_TEMP_NOMEM : QQ_TEMP_WRITE;
}

/* No room (blocks or inodes, or a quota) is 53, "disk full", wherever it
 * happens: smtp-recv answers it 452 4.3.1 (RFC 3463: insufficient
 * storage), and the client knows to come back later; otherwise code. */
static int
room_err(int e, int code)
{
	return e == ENOSPC || e == EDQUOT ? QQ_TEMP_WRITE : code;
}

/* The queue's directories, opened once per process: smtp-recv writes every
 * message of a session, and each open is a walk of the path. Each use
 * checks that the directory still has links (it was not removed) and that
 * the queue is still the same path. Not closed: they are close-on-exec. */
enum { DIR_MESS, DIR_NEW, DIR_POOL, DIR_N };
static const char *const dir_sub[DIR_N] = { "mess", "new", "pool" };
static int dir_cache[DIR_N] = { -1, -1, -1 };
static struct str dir_queue = STR_INIT;

static int
queue_dir_fd(int which)
{
	const char *q = queue_dir();
	struct stat st;
	int i;
	if (!dir_queue.s || strcmp(dir_queue.s, q) != 0) {
		for (i = 0; i < DIR_N; i++) {
			if (dir_cache[i] >= 0)
				close(dir_cache[i]);
			dir_cache[i] = -1;
		}
		if (str_copys(&dir_queue, q) < 0 || str_0(&dir_queue) < 0) {
			str_free(&dir_queue);
			errno = ENOMEM;
			return -1;
		}
	}
	if (dir_cache[which] >= 0 && fstat(dir_cache[which], &st) == 0 && st.st_nlink > 0)
		return dir_cache[which];
	if (dir_cache[which] >= 0)
		close(dir_cache[which]);
	return dir_cache[which] = queue_open_dir(dir_sub[which]);
}

static int
pwrite_all(int fd, const char *b, size_t n, off_t off)
{
	while (n) {
		ssize_t r = pwrite(fd, b, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		b += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

static void
close_dirs(struct qwrite *w)
{
	w->messfd = w->newfd = -1;   /* the cache's, kept open */
}

/* Up to POOL_TRIES names from pool/ at the directory position pos. One
 * small getdents64, not readdir's 32 KB: ext4 hashes every name in each
 * directory block a read reaches, and a take needs only a few names
 * (with glibc's buffer this read was an eighth of all the CPU of a busy
 * reception, perf). */
static unsigned int
pool_names(int pfd, off_t pos, char names[POOL_TRIES][QUEUE_ID_MAX + 1])
{
	union { struct dirent64 align; char b[POOL_TRIES * 48]; } buf;
	unsigned int n = 0;
	ssize_t got, off;
	got = lseek(pfd, pos, SEEK_SET) == pos ? getdents64(pfd, buf.b, sizeof buf.b) : -1;
	for (off = 0; got > 0 && off < got && n < POOL_TRIES;) {
		struct dirent64 *e = (struct dirent64 *)(void *)(buf.b + off);
		size_t len;
		if (e->d_reclen <= offsetof(struct dirent64, d_name) || (size_t)e->d_reclen > (size_t)(got - off))
			break;
		len = strnlen(e->d_name, e->d_reclen - offsetof(struct dirent64, d_name));
		if (e->d_name[0] != '.' && len <= QUEUE_ID_MAX)
			memcpy(names[n++], e->d_name, len + 1);
		off += e->d_reclen;
	}
	return n;
}

/* Where in pool/ to start reading. ext4 lists a big directory in the
 * order of a hash of the names, and a position there is a hash value: were
 * every take to start at the top, the top blocks would be emptied first
 * and every later read would walk past more and more empty blocks (seen:
 * pool/ grown to 79 blocks for 2,000 names, getdents 5% of all CPU). From
 * a random hash, takes spread over the whole directory. Elsewhere: the top. */
static off_t
pool_start(int pfd)
{
	static int ext4 = -1;
	static unsigned long long x;
	struct timeval tv;
	if (ext4 < 0) {
		struct statfs sf;
		ext4 = fstatfs(pfd, &sf) == 0 && sf.f_type == EXT4_SUPER_MAGIC;
	}
	if (!ext4)
		return 0;
	gettimeofday(&tv, NULL);
	/* xorshift over the time and the pid: writers at once start apart */
	x ^= (unsigned long long)tv.tv_usec << 20 ^ (unsigned long long)getpid() ^ (unsigned long long)tv.tv_sec << 40;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	/* a 64-bit process's ext4 directory position: the hash's top 31 bits above 32 */
	return (off_t)((x & 0x7fffffffULL) << 32);
}

/* Take pool/NAME: 1 (its descriptor in *fdp), or 0 */
static int
take_one(struct qwrite *w, int pfd, const char *name, int *fdp)
{
	struct stat st, here;
	int fd = openat(pfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;   /* gone already, or not ours */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    fstatat(pfd, name, &here, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == here.st_dev && st.st_ino == here.st_ino && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1 && st.st_uid == geteuid() &&
	    (st.st_size == 0 || (ftruncate(fd, 0) == 0 && fsync(fd) == 0)) &&   /* queue.h: queue_pool_empty */
	    futimens(fd, NULL) == 0 && fcntl(fd, F_SETFL, 0) == 0 &&
	    renameat2(pfd, name, w->messfd, w->id, RENAME_NOREPLACE) == 0) {
		*fdp = fd;
		return 1;
	}
	close(fd);   /* another writer's, or a reader still holds it */
	return 0;
}

/* The names one read of pool/ gave, kept for the next messages of the
 * process (a session): most takes then read no directory at all. A name
 * another writer took meanwhile costs one failed open. */
static struct {
	char names[POOL_TRIES][QUEUE_ID_MAX + 1];
	unsigned int n, next;
	int pfd;
} seen = { .pfd = -1 };

/* A pool file (lib/queue.h), emptied and renamed to mess/ID, open, or
 * -1: then the caller creates one. It is locked, checked to be the file
 * the pool name still points to, and emptied before the rename, so that
 * mess/ never shows an old message under a new name, and no two writers
 * ever hold one file. Only a plain file with one link, owned by us, is
 * used: whoever owns a file can read what is written into it. Its times
 * are set to now, as a new file's: queue-run's start-up takes an old
 * file without a header for one a writer abandoned. */
static int
pool_take(struct qwrite *w)
{
	int pfd = queue_dir_fd(DIR_POOL), fd = -1, pass;
	off_t pos;
	if (pfd < 0)
		return -1;
	if (seen.pfd != pfd)
		seen.n = seen.next = 0;
	seen.pfd = pfd;
	while (seen.next < seen.n)
		if (take_one(w, pfd, seen.names[seen.next++], &fd))
			return fd;
	/* a read from a random place (writers at once start apart), then,
	 * nothing there for us, one from the top */
	pos = pool_start(pfd);
	for (pass = pos ? 0 : 1; pass < 2; pass++) {
		seen.n = pool_names(pfd, pass ? 0 : pos, seen.names);
		for (seen.next = 0; seen.next < seen.n;)
			if (take_one(w, pfd, seen.names[seen.next++], &fd))
				return fd;
	}
	return -1;
}

int
qwrite_open(struct qwrite *w)
{
	struct timeval tv;
	unsigned int i;
	w->messfd = w->newfd = w->fd = -1;
	w->id[0] = 0;
	w->msglen = 0;
	w->crc = crc32(0L, Z_NULL, 0);
	w->code = QQ_OK;
	w->err = 0;
	w->verb = w->obj = w->why = NULL;
	w->n = 0;
	w->messfd = queue_dir_fd(DIR_MESS);
	w->newfd = queue_dir_fd(DIR_NEW);
	if ((w->messfd < 0 || w->newfd < 0) && errno == ENOENT && queue_init() == 0) {
		/* first use: queue_init is idempotent, so racing writers all succeed */
		if (w->messfd < 0)
			w->messfd = queue_dir_fd(DIR_MESS);
		if (w->newfd < 0)
			w->newfd = queue_dir_fd(DIR_NEW);
	}
	if (w->messfd < 0 || w->newfd < 0) {
		int e = errno;
		close_dirs(w);
		return fail(w, room_err(e, QQ_TEMP_QUEUE), e, "open", "queue directory", NULL);
	}
	for (i = 0; i < ID_TRIES; i++) {
		struct str s = STR_INIT;
		gettimeofday(&tv, NULL);
		if (str_catu(&s, (unsigned long long)tv.tv_sec) < 0 || str_catc(&s, '.') < 0 ||
		    str_catu(&s, (unsigned long long)tv.tv_usec) < 0 || str_catc(&s, '.') < 0 ||
		    str_catu(&s, (unsigned long long)getpid()) < 0 ||
		    (i && (str_catc(&s, '.') < 0 || str_catu(&s, i) < 0))) {
			str_free(&s);
			close_dirs(w);
			return fail(w, QQ_TEMP_NOMEM, ENOMEM, "create", "queue file", NULL);
		}
		if (s.len > QUEUE_ID_MAX) {
			str_free(&s);
			break;
		}
		memcpy(w->id, s.s, s.len + 1);
		str_free(&s);
		if (i == 0 && (w->fd = pool_take(w)) >= 0)
			return QQ_OK;
		w->fd = openat(w->messfd, w->id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (w->fd >= 0) {
			/* locked as a pool file is: queue-run's start-up scan
			 * of mess/ leaves a locked file alone until its notice */
			if (flock(w->fd, LOCK_EX | LOCK_NB) < 0) {
				/* only a reader's moment: the scan still finds no header */
			}
			return QQ_OK;
		}
		if (errno != EEXIST) {
			int e = errno;
			close_dirs(w);
			return fail(w, room_err(e, QQ_TEMP_QUEUE), e, "create", "queue file", NULL);
		}
	}
	w->id[0] = 0;
	close_dirs(w);
	return fail(w, QQ_TEMP_QUEUE, 0, "create", "queue file", "no unique name");
}

static int
flush(struct qwrite *w)
{
	if (w->n && pwrite_all(w->fd, w->b, w->n, (off_t)(QUEUE_MSG_OFF + w->msglen - w->n)) < 0)
		return fail(w, write_err(errno), errno, "write", "queue file", NULL);
	w->n = 0;
	return QQ_OK;
}

int
qwrite_put(struct qwrite *w, const char *p, size_t n)
{
	if (w->code != QQ_OK)
		return w->code;
	if (w->fd < 0)
		return fail(w, QQ_TEMP_BUG, EBADF, "write", "queue file", NULL);
	if (n > (unsigned long long)-1 - QUEUE_MSG_OFF - w->msglen)
		return fail(w, QQ_TEMP_WRITE, EFBIG, "write", "queue file", NULL);
	w->crc = crc32_z(w->crc, (const Bytef *)p, n);
	while (n) {
		size_t k = sizeof w->b - w->n;
		if (k > n)
			k = n;
		memcpy(w->b + w->n, p, k);
		w->n += k;
		w->msglen += k;
		p += k;
		n -= k;
		if (w->n == sizeof w->b && flush(w) != QQ_OK)
			return w->code;
	}
	return QQ_OK;
}

int
qwrite_envelope_check(const char *env, size_t len, const char **why)
{
	size_t i = 0, nrcpt = 0, first = 1;
	for (;;) {
		const char *f = env + i, *nul = memchr(f, 0, len - i);
		size_t fl, j;
		if (!nul) {
			*why = "truncated";
			return QQ_TEMP_READ;
		}
		fl = (size_t)(nul - f);
		i += fl + 1;
		if (fl == 0) {
			if (first) {
				*why = "no sender";
				return QQ_PERM_ENV;
			}
			break;
		}
		if (fl > QUEUE_ADDR_MAX + 1) {
			*why = "address too long";
			return QQ_PERM_ADDR;
		}
		if (first ? f[0] != 'F' : f[0] != 'T' || fl < 2) {
			*why = first ? "no sender" : "bad recipient field";
			return QQ_PERM_ENV;
		}
		for (j = 1; j < fl; j++)
			if ((unsigned char)f[j] < 0x20 || f[j] == 0x7f) {
				*why = "control character in address";
				return QQ_PERM_ENV;
			}
		if (!first && ++nrcpt > QUEUE_RCPT_MAX) {
			*why = "too many recipients";
			return QQ_PERM_ENV;
		}
		first = 0;
	}
	if (nrcpt == 0) {
		*why = "no recipients";
		return QQ_PERM_ENV;
	}
	return QQ_OK;
}

struct rcptkey {
	const char *a;
	size_t len, idx;
};

/* the same mailbox in input order, so that the first one is kept */
static int
cmp_rcpt(const void *x, const void *y)
{
	const struct rcptkey *p = x, *q = y;
	int c = smtpaddr_cmp(p->a, q->a);
	if (c)
		return c;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

int
qwrite_unique(struct str *rcpts, const char *dsn, struct str *dsnout)
{
	struct rcptkey *k;
	struct str out = STR_INIT;
	unsigned char *dup;
	size_t n = 0, i, off, dropped = 0;
	const char *line;
	for (i = 0; i < rcpts->len; i++)
		n += rcpts->s[i] == 0;
	str_trunc(dsnout, 0);
	if (dsn && str_cats(dsnout, dsn) < 0)
		return -1;
	if (n < 2)
		return 0;
	k = calloc(n, sizeof *k);
	dup = calloc(n, 1);
	if (!k || !dup)
		goto nomem;
	for (i = 0, off = 0; i < n; i++) {
		k[i].a = rcpts->s + off;
		k[i].len = strlen(k[i].a);
		k[i].idx = i;
		off += k[i].len + 1;
	}
	qsort(k, n, sizeof *k, cmp_rcpt);
	for (i = 1; i < n; i++)
		if (smtpaddr_cmp(k[i - 1].a, k[i].a) == 0)
			dup[k[i].idx] = 1, dropped++;
	if (!dropped)
		goto done;
	for (i = 0, off = 0; i < n; i++) {
		size_t l = strlen(rcpts->s + off);
		if (!dup[i] && str_catb(&out, rcpts->s + off, l + 1) < 0)
			goto nomem;
		off += l + 1;
	}
	if (str_copyb(rcpts, out.s, out.len) < 0)
		goto nomem;
	/* PIPEMAIL_DSN: the message's line, then one line per recipient */
	if (dsn && (line = strchr(dsn, '\n')) != NULL) {
		str_trunc(dsnout, 0);
		if (str_catb(dsnout, dsn, (size_t)(line - dsn) + 1) < 0)
			goto nomem;
		for (i = 0, line++; *line; i++) {
			const char *nl = strchr(line, '\n');
			size_t l = nl ? (size_t)(nl - line) + 1 : strlen(line);
			if ((i >= n || !dup[i]) && str_catb(dsnout, line, l) < 0)
				goto nomem;
			line += l;
		}
	}
done:
	free(k);
	free(dup);
	str_free(&out);
	return (int)dropped;
nomem:
	free(k);
	free(dup);
	str_free(&out);
	errno = ENOMEM;
	return -1;
}

int
qwrite_commit(struct qwrite *w, const char *env, size_t envlen, const char *dsn)
{
	struct str rcpts = STR_INIT, e = STR_INIT, d = STR_INIT;
	struct queue_hdr h;
	char hdr[QUEUE_HDR_LEN];
	const char *why = NULL, *p, *sender;
	int code, hold;
	if (w->code != QQ_OK)
		return w->code;
	if (w->fd < 0)
		return fail(w, QQ_TEMP_BUG, EBADF, "write", "queue file", NULL);
	if ((code = qwrite_envelope_check(env, envlen, &why)) != QQ_OK)
		return fail(w, code, 0, "accept", "envelope", why);
	if (dsn && strlen(dsn) > QUEUE_DSN_MAX)
		return fail(w, QQ_PERM_ENV, 0, "accept", "PIPEMAIL_DSN", "too long");
	sender = env + 1;
	for (p = sender + strlen(sender) + 1; *p; p += strlen(p) + 1)
		if (str_catb(&rcpts, p + 1, strlen(p + 1) + 1) < 0) {
			str_free(&rcpts);
			return fail(w, QQ_TEMP_NOMEM, ENOMEM, "read", "envelope", NULL);
		}
	/* one copy per recipient address, however often it was named */
	if (qwrite_unique(&rcpts, dsn, &d) < 0 || (dsn && str_0(&d) < 0)) {
		str_free(&rcpts);
		str_free(&d);
		return fail(w, QQ_TEMP_NOMEM, ENOMEM, "read", "envelope", NULL);
	}
	if (flush(w) != QQ_OK) {
		str_free(&rcpts);
		str_free(&d);
		return w->code;
	}
	if (queue_env_fmt(&e, (unsigned long long)time(NULL), (unsigned long long)getuid(),
	    dsn ? d.s : NULL, sender, rcpts.s, rcpts.len) < 0) {
		str_free(&rcpts);
		str_free(&d);
		return fail(w, QQ_TEMP_NOMEM, ENOMEM, "format", "envelope", NULL);
	}
	str_free(&rcpts);
	str_free(&d);
	/* never more than a reader takes (the checks above keep it so) */
	if (e.len > QUEUE_ENV_MAX) {
		str_free(&e);
		return fail(w, QQ_PERM_ENV, 0, "accept", "envelope", "too long");
	}
	h.msgoff = QUEUE_MSG_OFF;
	h.msglen = w->msglen;
	h.envlen = e.len;
	h.crc = crc32_z(w->crc, (const Bytef *)e.s, e.len);
	h.has_crc = 1;
	/* in the first page only when the message then ends the file: an
	 * empty one would leave its region past the end, and the file would
	 * read as unfinished, never delivered (test 249) */
	h.envoff = h.msglen && QUEUE_HDR_LEN + e.len <= QUEUE_MSG_OFF ? QUEUE_HDR_LEN : QUEUE_MSG_OFF + h.msglen;
	if (queue_hdr_fmt(hdr, &h) < 0) {
		str_free(&e);
		return fail(w, QQ_TEMP_WRITE, EFBIG, "format", "queue file header", NULL);
	}
	/* the header last (in the same write when the envelope follows it):
	 * until it is there the file is not mail */
	if (pwrite_all(w->fd, e.s, e.len, (off_t)h.envoff) < 0 || pwrite_all(w->fd, hdr, sizeof hdr, 0) < 0) {
		str_free(&e);
		return fail(w, write_err(errno), errno, "write", "queue file", NULL);
	}
	str_free(&e);
	if (fsync(w->fd) < 0)
		return fail(w, QQ_TEMP_WRITE, errno, "sync", "queue file", NULL);
	if (fsync(w->messfd) < 0)
		return fail(w, room_err(errno, QQ_TEMP_QUEUE), errno, "sync", "queue directory", NULL);
	/* The notice only now, after everything that can fail: a running
	 * queue-run takes what new/ shows at any writer's wakeup, so a notice
	 * before the syncs (or a close that fails, as on NFS) let it deliver
	 * a message the client, told 4xx, then sent again. The file stays
	 * locked (held through a second descriptor, since the close is where
	 * NFS reports write errors) until the notice is there: a queue-run
	 * starting meanwhile scans mess/ and would otherwise deliver and
	 * recycle the file under us, and our link would fail (4xx to the
	 * client, who sends it again). queue-run looks at a file only once
	 * its notice is there, so it never waits on our syncs. */
	hold = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);
	if (hold < 0)   /* unlocked at the close: a starting queue-run could take it (test 193) */
		return fail(w, errno == ENOMEM ? QQ_TEMP_NOMEM : QQ_TEMP_QUEUE, errno, "hold", "queue file", NULL);
	if (close(w->fd) < 0) {
		int ce = errno;
		w->fd = -1;
		unlinkat(w->messfd, w->id, 0);
		close(hold);
		close_dirs(w);
		return fail(w, QQ_TEMP_WRITE, ce, "close", "queue file", NULL);
	}
	w->fd = -1;
	if (linkat(w->messfd, w->id, w->newfd, w->id, 0) < 0) {
		int le = errno;
		unlinkat(w->messfd, w->id, 0);
		close(hold);
		close_dirs(w);
		return fail(w, room_err(le, QQ_TEMP_QUEUE), le, "link", "queue file into new", NULL);
	}
	close(hold);
	close_dirs(w);
	queue_trigger();
	return QQ_OK;
}

void
qwrite_abort(struct qwrite *w)
{
	int e = errno;
	if (w->fd >= 0) {
		unlinkat(w->newfd, w->id, 0);
		unlinkat(w->messfd, w->id, 0);
		close(w->fd);
		w->fd = -1;
	}
	close_dirs(w);
	errno = e;
}
