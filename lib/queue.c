/* Queue layout and file format (see queue.h). Readers never trust a
 * length from the file: every offset is checked against the file size. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>   /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "buf.h"
#include "conf.h"
#include "fmt.h"
#include "queue.h"
#include "scan.h"

/* the built-in queue directory: make QUEUEDIR=... */
#ifndef PIPEMAIL_QUEUEDIR
#define PIPEMAIL_QUEUEDIR "/var/spool/pipemail"
#endif

/* queue-add installed setgid must not write into a queue the user who
 * runs it names; root (queue-run queueing a bounce) may */
const char *
queue_dir(void)
{
	return conf_env_dir("PIPEMAIL_QUEUE", PIPEMAIL_QUEUEDIR);
}

int
queue_open(const char *path, int flags, mode_t mode)
{
	return queue_openat(AT_FDCWD, path, flags, mode);
}

int
queue_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd = openat(dirfd, name, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode), fl;
	if (fd < 0) {
		if (errno == ENXIO)
			errno = EINVAL;   /* a FIFO without a reader, a socket */
		return -1;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	/* opened for writing (root's state/ID.done and ID.qmail): a name with
	 * another link may be one the queue's owner made to a file outside
	 * the queue (a kernel without fs.protected_hardlinks lets it link
	 * root's files), and root would append to that file (test 184).
	 * None of ours has two. O_TRUNC only after this check. */
	if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink > 1) {
		errno = EINVAL;
		goto fail;
	}
	if ((flags & O_TRUNC) && ftruncate(fd, 0) < 0)
		goto fail;
	/* a plain file: blocking as usual (agents read it as their stdin) */
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	fl = errno;
	close(fd);
	errno = fl;
	return -1;
}

int
queue_path(struct str *out, const char *sub, const char *id)
{
	if (str_copys(out, queue_dir()) < 0 || str_catc(out, '/') < 0 || str_cats(out, sub) < 0)
		return -1;
	if (id && (str_catc(out, '/') < 0 || str_cats(out, id) < 0))
		return -1;
	return 0;
}

/* The directories queue_pin holds open, and their descriptors (-1: not) */
static const char *const pin_sub[] = { "mess", "new", "state", "tmp", "pool" };
enum { PIN_N = sizeof pin_sub / sizeof pin_sub[0] };
static int pin_fd[PIN_N] = { -1, -1, -1, -1, -1 };

int
queue_at(const char *sub, const char *name, struct str *tmp, const char **nm)
{
	size_t i;
	for (i = 0; i < PIN_N; i++)
		if (pin_fd[i] >= 0 && strcmp(sub, pin_sub[i]) == 0) {
			*nm = name ? name : ".";
			return pin_fd[i];
		}
	if (queue_path(tmp, sub, name) < 0)
		return -1;
	*nm = tmp->s;
	return AT_FDCWD;
}

int
queue_open_in(const char *sub, const char *name, int flags, mode_t mode)
{
	struct str p = STR_INIT;
	const char *nm;
	int d = queue_at(sub, name, &p, &nm), fd = d == -1 ? -1 : queue_openat(d, nm, flags, mode), e = errno;
	str_free(&p);
	errno = e;
	return fd;
}

int
queue_unlink_in(const char *sub, const char *name)
{
	struct str p = STR_INIT;
	const char *nm;
	int d = queue_at(sub, name, &p, &nm), r = d == -1 ? -1 : unlinkat(d, nm, 0), e = errno;
	str_free(&p);
	errno = e;
	return r;
}

int
queue_stat_in(const char *sub, const char *name, struct stat *st)
{
	struct str p = STR_INIT;
	const char *nm;
	int d = queue_at(sub, name, &p, &nm), r = d == -1 ? -1 : fstatat(d, nm, st, AT_SYMLINK_NOFOLLOW), e = errno;
	str_free(&p);
	errno = e;
	return r;
}

int
queue_rename_in(const char *fsub, const char *fname, const char *tsub, const char *tname, unsigned flags)
{
	struct str p = STR_INIT, q = STR_INIT;
	const char *fn, *tn;
	int fd = queue_at(fsub, fname, &p, &fn), td = fd == -1 ? -1 : queue_at(tsub, tname, &q, &tn), r = -1, e;
	if (td != -1)
		r = flags ? renameat2(fd, fn, td, tn, flags) : renameat(fd, fn, td, tn);
	e = errno;
	str_free(&p);
	str_free(&q);
	errno = e;
	return r;
}

DIR *
queue_opendir(const char *sub)
{
	int fd = queue_open_dir(sub);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (fd >= 0 && !d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int
queue_open_dir(const char *sub)
{
	struct str p = STR_INIT;
	const char *nm;
	/* a new open of the pinned directory: its own offset, and closing
	 * it leaves the pin alone. Unpinned, never through a link either: a
	 * writer the admin runs as root (root's sendmail: queue-add) would
	 * create its files wherever the queue's owner pointed mess/ (test 185) */
	int d = queue_at(sub, NULL, &p, &nm),
	    fd = d == -1 ? -1 : openat(d, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = errno;
	str_free(&p);
	errno = e;
	return fd;
}

int
queue_pin(void)
{
	int fd[PIN_N];
	size_t i, n;
	int e;
	for (n = 0; n < PIN_N; n++) {
		struct str p = STR_INIT;
		fd[n] = queue_path(&p, pin_sub[n], NULL) < 0 ? -1 :
		    open(p.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		str_free(&p);
		if (fd[n] < 0)
			goto out;
	}
	for (i = 0; i < PIN_N; i++) {
		if (pin_fd[i] >= 0)
			close(pin_fd[i]);
		pin_fd[i] = fd[i];
	}
	return 0;
out:
	e = errno;
	for (i = 0; i < n; i++)
		close(fd[i]);
	errno = e;
	return -1;
}

/* What root just made at path (a directory, or the FIFO), given to the
 * queue's owner (q), as INSTALL makes them: through a descriptor of the
 * thing itself, and only if it is still what we made (root's, and for
 * the FIFO one link). By name, lchown gave the owner whatever it put in
 * its place meanwhile: a hard link to a file of root's (test 185). */
static int
chown_made(const char *path, int fifo, const struct stat *q)
{
	struct stat st;
	int fd = open(path, (fifo ? O_PATH : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC), r = -1, e;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		if ((fifo ? S_ISFIFO(st.st_mode) && st.st_nlink == 1 : S_ISDIR(st.st_mode)) && st.st_uid == 0)
			r = fchownat(fd, "", q->st_uid, q->st_gid, AT_EMPTY_PATH);
		else
			errno = EINVAL;
	}
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* fsync the directory path, or with parent set the one holding it */
static int
sync_dir(const char *path, int parent)
{
	struct str p = STR_INIT;
	size_t n = strlen(path);
	int fd = -1, r = -1, e;
	if (parent) {
		/* "a/b/" and "a/b" are both in "a"; "b" in ".", "/b" in "/" */
		while (n > 1 && path[n - 1] == '/')
			n--;
		while (n > 0 && path[n - 1] != '/')
			n--;
		if (str_copyb(&p, path, n > 1 ? n - 1 : n) < 0 || (n == 0 && str_catc(&p, '.') < 0) || str_0(&p) < 0)
			goto out;
		path = p.s;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		r = fsync(fd);
out:
	e = errno;
	if (fd >= 0)
		close(fd);
	str_free(&p);
	errno = e;
	return r;
}

int
queue_init(void)
{
	static const char *const sub[] = { "mess", "new", "state", "tmp", "pool" };
	struct str p = STR_INIT;
	struct stat st;
	size_t i;
	int r = -1, made_sub = 0;
	/* a directory made is there after a crash only once the one holding
	 * it is synced: mess/'s own sync after a message covers the message's
	 * name, not mess/'s (test 244); synced once, when made, not per message */
	if (mkdir(queue_dir(), 0750) == 0) {
		if (sync_dir(queue_dir(), 1) < 0)
			return -1;
	} else if (errno != EEXIST)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if (queue_path(&p, sub[i], NULL) < 0)
			goto out;
		if (mkdir(p.s, 0750) < 0) {
			if (errno != EEXIST)
				goto out;
			continue;
		}
		made_sub = 1;
		/* root's (queue-run's) is the queue owner's too, as INSTALL
		 * makes them: a root mess/ or new/ stops every writer */
		if (geteuid() == 0 && stat(queue_dir(), &st) == 0 && chown_made(p.s, 0, &st) < 0)
			goto out;
	}
	if (queue_path(&p, "trigger", NULL) < 0)
		goto out;
	/* something else in the FIFO's place (a link, a file): a FIFO again */
	if (lstat(p.s, &st) == 0 && !S_ISFIFO(st.st_mode))
		unlink(p.s);
	if (mkfifo(p.s, 0620) == 0) {
		/* root's is the queue owner's, as INSTALL makes it: queue-add
		 * (setgid to the queue's group) must be able to write to it */
		if (geteuid() == 0 && stat(queue_dir(), &st) == 0 && chown_made(p.s, 1, &st) < 0)
			goto out;
	} else if (errno != EEXIST)
		goto out;
	/* after the chowns above: the owner's directories, not root's */
	if (made_sub && sync_dir(queue_dir(), 0) < 0)
		goto out;
	r = 0;
out:
	str_free(&p);
	return r;
}

/* Empty pool/id, open for writing as w, while that name is still the
 * file held open (and share-locked) as held: a writer may have taken it
 * meanwhile. 0, or -1 errno. */
static int
empty_held(const char *id, int w, int held)
{
	struct stat a, b, c;
	if (fstat(held, &a) < 0 || queue_stat_in("pool", id, &b) < 0 || fstat(w, &c) < 0)
		return -1;
	/* w itself is the file held, not just the name (the name may have
	 * pointed elsewhere when w was opened); one link only: never a file
	 * the queue's owner hard-linked here from outside the queue */
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || a.st_dev != c.st_dev || a.st_ino != c.st_ino ||
	    !S_ISREG(c.st_mode) || c.st_nlink != 1) {
		errno = ESTALE;
		return -1;
	}
	/* synced at once: see queue_pool_empty in queue.h */
	return ftruncate(w, 0) < 0 ? -1 : fsync(w);
}

/* pool/id opened for writing, never through a link, never waiting */
static int
pool_open(const char *id)
{
	struct str p = STR_INIT;
	const char *nm;
	int d = queue_at("pool", id, &p, &nm), fd = d == -1 ? -1 : openat(d, nm, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
	    e = errno;
	str_free(&p);
	errno = e;
	return fd;
}

int
queue_recycle(const char *id, int pool, uid_t owner)
{
	struct stat st;
	int r = -1;
	/* moved first, emptied after: a crash between the two leaves a full
	 * file in pool/, which a writer empties before it takes it; never an
	 * emptied one in mess/ */
	if (pool && queue_stat_in("mess", id, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid == owner && queue_rename_in("mess", id, "pool", id, RENAME_NOREPLACE) == 0) {
		/* emptied under a shared lock: that keeps writers, who lock
		 * exclusively, out, yet is granted while the delivery that just
		 * finished holds its own shared lock until queue-run
		 * acknowledges it, which is after this */
		int fd = pool == QUEUE_POOL_FULL ? -1 : pool_open(id);
		if (fd >= 0) {
			if (flock(fd, LOCK_SH | LOCK_NB) == 0 && empty_held(id, fd, fd) < 0) {
				/* the writer that takes it empties it */
			}
			close(fd);
		}
		r = 1;
	}
	if (r < 0)
		r = queue_unlink_in("mess", id) == 0 ? 0 : -1;
	return r;
}

int
queue_pool_empty(const char *id, int fd)
{
	int w = pool_open(id), r = -1, e;
	if (w >= 0)
		r = empty_held(id, w, fd);
	e = errno;
	if (w >= 0)
		close(w);
	errno = e;
	return r;
}

int
queue_pool_count(void)
{
	DIR *dir = queue_opendir("pool");
	struct dirent *e;
	int n = 0;
	if (!dir)
		return -1;
	while (n < QUEUE_POOL_MAX && (e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

int
queue_id_ok(const char *id)
{
	size_t i;
	for (i = 0; id[i]; i++)
		if (i >= QUEUE_ID_MAX || !((id[i] >= '0' && id[i] <= '9') || id[i] == '.'))
			return 0;
	return i > 0 && id[0] != '.';
}

/* one decimal field ending at a space or newline; advances *p */
static int
field(const char **p, const char *end, unsigned long long *v)
{
	const char *s = *p, *q = s;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (q == s || q == end || (*q != ' ' && *q != '\n'))
		return -1;
	if (scan_ulong(s, (size_t)(q - s), (unsigned long long)1 << 62, v) < 0)
		return -1;
	*p = q + 1;
	return 0;
}

int
queue_hdr_parse(const char *b, size_t n, struct queue_hdr *h)
{
	const char *p = b, *end;
	if (n < QUEUE_HDR_LEN || memcmp(b, "PMQ1 ", 5) != 0 || b[QUEUE_HDR_LEN - 1] != '\n')
		return -1;
	end = b + QUEUE_HDR_LEN;
	p += 5;
	h->crc = 0;
	h->has_crc = 0;
	if (field(&p, end, &h->msgoff) < 0 || field(&p, end, &h->msglen) < 0 ||
	    field(&p, end, &h->envoff) < 0 || field(&p, end, &h->envlen) < 0)
		return -1;
	if (p[-1] == ' ' && p < end && *p >= '0' && *p <= '9') {
		if (field(&p, end, &h->crc) < 0 || h->crc > 0xffffffffULL)
			return -1;
		h->has_crc = 1;
	}
	if (p[-1] == '\n') {
		if (p != end)
			return -1;
	} else {
		while (p < end - 1)
			if (*p++ != ' ')
				return -1;
	}
	if (h->envlen < 1 || h->msgoff < QUEUE_HDR_LEN || h->envoff < QUEUE_HDR_LEN)
		return -1;
	/* the two regions must not overlap (values are < 2^62, so sums fit) */
	if (!(h->envoff + h->envlen <= h->msgoff || h->msgoff + h->msglen <= h->envoff))
		return -1;
	return 0;
}

int
queue_hdr_fmt(char *out, const struct queue_hdr *h)
{
	unsigned long long v[5] = { h->msgoff, h->msglen, h->envoff, h->envlen, h->crc };
	int i, nv = h->has_crc ? 5 : 4;
	size_t n = 4;
	memset(out, ' ', QUEUE_HDR_LEN);
	memcpy(out, "PMQ1", 4);
	for (i = 0; i < nv; i++) {
		char d[FMT_ULONG];
		size_t k = fmt_ulong(d, v[i]);
		if (n + 1 + k > QUEUE_HDR_LEN - 1)   /* room for the newline */
			return -1;
		out[n++] = ' ';
		memcpy(out + n, d, k);
		n += k;
	}
	out[QUEUE_HDR_LEN - 1] = '\n';
	return 0;
}

static int
crc_region(int fd, unsigned long long off, unsigned long long len, uLong *crc)
{
	static char b[65536];
	while (len > 0) {
		size_t want = len < sizeof b ? (size_t)len : sizeof b;
		ssize_t r = pread(fd, b, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;   /* shorter than the header says */
			return -1;
		}
		*crc = crc32(*crc, (const Bytef *)b, (uInt)r);
		off += (unsigned long long)r;
		len -= (unsigned long long)r;
	}
	return 0;
}

int
queue_crc(int fd, const struct queue_hdr *h, unsigned long long *crc)
{
	uLong c = crc32(0L, Z_NULL, 0);
	if (crc_region(fd, h->msgoff, h->msglen, &c) < 0 || crc_region(fd, h->envoff, h->envlen, &c) < 0)
		return -1;
	*crc = c;
	return 0;
}

static int
bad(void)
{
	errno = EINVAL;
	return -1;
}

int
queue_env_parse(struct queue_env *e, const char *b, size_t n)
{
	size_t i, len, cap = 0, nr = 0;
	const char *f, *end;
	const char **r = NULL;
	unsigned long long v;
	int have_f = 0;
	queue_env_free(e);
	if (str_copyb(&e->raw, b, n) < 0)
		return -1;
	f = e->raw.s;
	end = f + n;
	for (;;) {
		const char *z = memchr(f, 0, (size_t)(end - f));
		if (!z)
			goto fail;
		len = (size_t)(z - f);
		if (len == 0)
			break;
		switch (f[0]) {
		case 'A': case 'U':
			if (have_f || scan_ulong(f + 1, len - 1, (unsigned long long)-1, &v) < 0)
				goto fail;
			if (f[0] == 'A')
				e->arrival = v;
			else
				e->uid = v;
			break;
		case 'D':
			if (have_f)
				goto fail;
			e->dsn = f + 1;
			break;
		case 'F':
			if (have_f || len - 1 > QUEUE_ADDR_MAX)
				goto fail;
			e->sender = f + 1;
			have_f = 1;
			break;
		case 'T':
			if (!have_f || len - 1 > QUEUE_ADDR_MAX || nr >= QUEUE_RCPT_MAX)
				goto fail;
			if (nr == cap) {
				const char **nr_;
				cap = cap ? cap * 2 : 8;
				nr_ = realloc(r, cap * sizeof *r);
				if (!nr_) {
					free(r);
					queue_env_free(e);
					errno = ENOMEM;
					return -1;
				}
				r = nr_;
			}
			r[nr++] = f + 1;
			break;
		default:
			goto fail;
		}
		f = z + 1;
	}
	if (!have_f || nr == 0 || f + 1 != end)
		goto fail;
	for (i = 0; i < nr; i++)
		if (!r[i][0])
			goto fail;
	e->rcpt = r;
	e->nrcpt = nr;
	return 0;
fail:
	free(r);
	queue_env_free(e);
	return bad();
}

void
queue_env_free(struct queue_env *e)
{
	str_free(&e->raw);
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = 0;
	e->dsn = "";
	e->sender = NULL;
	e->arrival = e->uid = 0;
}

int
queue_env_fmt(struct str *out, unsigned long long arrival, unsigned long long uid,
    const char *dsn, const char *sender, const char *rcpts, size_t rcptslen)
{
	str_trunc(out, 0);
	if (str_catc(out, 'A') < 0 || str_catu(out, arrival) < 0 || str_catc(out, 0) < 0 ||
	    str_catc(out, 'U') < 0 || str_catu(out, uid) < 0 || str_catc(out, 0) < 0)
		return -1;
	if (dsn && *dsn && (str_catc(out, 'D') < 0 || str_cats(out, dsn) < 0 || str_catc(out, 0) < 0))
		return -1;
	if (str_catc(out, 'F') < 0 || str_cats(out, sender) < 0 || str_catc(out, 0) < 0)
		return -1;
	while (rcptslen) {
		size_t l = strnlen(rcpts, rcptslen);
		if (str_catc(out, 'T') < 0 || str_catb(out, rcpts, l) < 0 || str_catc(out, 0) < 0)
			return -1;
		if (l == rcptslen)
			break;
		rcpts += l + 1;
		rcptslen -= l + 1;
	}
	return str_catc(out, 0);
}

static int
pread_all(int fd, char *b, size_t n, off_t off)
{
	while (n) {
		ssize_t r = pread(fd, b, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		b += r;
		n -= (size_t)r;
		off += r;
	}
	return 1;
}

int
queue_msg_open(struct queue_msg *m, const char *path)
{
	int fd = queue_open(path, O_RDONLY, 0);
	if (fd < 0) {
		m->env = (struct queue_env)QUEUE_ENV_INIT;
		m->fd = -1;
		return errno == EINVAL || errno == ELOOP ? 0 : -1;   /* not mail */
	}
	return queue_msg_fdopen(m, fd);
}

static int msg_fdopen(struct queue_msg *, int fd, int check_crc);

static int
msg_open_id(struct queue_msg *m, const char *id, int check_crc)
{
	int fd = queue_open_in("mess", id, O_RDONLY, 0);
	if (fd < 0) {
		m->env = (struct queue_env)QUEUE_ENV_INIT;
		m->fd = -1;
		return errno == EINVAL || errno == ELOOP ? 0 : -1;   /* not mail */
	}
	return msg_fdopen(m, fd, check_crc);
}

int
queue_msg_open_id(struct queue_msg *m, const char *id)
{
	return msg_open_id(m, id, 1);
}

int
queue_msg_open_id_env(struct queue_msg *m, const char *id)
{
	return msg_open_id(m, id, 0);
}

int
queue_msg_crc_ok(const struct queue_msg *m)
{
	unsigned long long c;
	if (!m->hdr.has_crc)
		return 1;
	if (queue_crc(m->fd, &m->hdr, &c) < 0)
		return -1;
	return c == m->hdr.crc;
}

int
queue_msg_fdopen(struct queue_msg *m, int fd)
{
	return msg_fdopen(m, fd, 1);
}

static int
msg_fdopen(struct queue_msg *m, int fd, int check_crc)
{
	char h[QUEUE_HDR_LEN];
	struct stat st;
	char *env = NULL;
	int r;
	m->env = (struct queue_env)QUEUE_ENV_INIT;
	m->fd = fd;
	if (fstat(m->fd, &st) < 0)
		goto err;
	if (!S_ISREG(st.st_mode))
		goto notmail;
	m->size = (unsigned long long)st.st_size;
	r = pread_all(m->fd, h, sizeof h, 0);
	if (r < 0)
		goto err;
	if (r == 0 || queue_hdr_parse(h, sizeof h, &m->hdr) < 0)
		goto notmail;
	/* complete iff both regions lie inside the file and one ends it; an
	 * empty message has no region to lie anywhere (queue-adds before
	 * lib/qwrite's fix put its offset past the envelope that ended the
	 * file, and such mail must still be read, not set aside) */
	if (m->hdr.envoff + m->hdr.envlen > m->size || (m->hdr.msglen && m->hdr.msgoff + m->hdr.msglen > m->size))
		goto notmail;
	if (m->hdr.envoff + m->hdr.envlen != m->size && (!m->hdr.msglen || m->hdr.msgoff + m->hdr.msglen != m->size))
		goto notmail;
	if (m->hdr.envlen > QUEUE_ENV_MAX)
		goto notmail;
	env = malloc((size_t)m->hdr.envlen);
	if (!env)
		goto err;
	r = pread_all(m->fd, env, (size_t)m->hdr.envlen, (off_t)m->hdr.envoff);
	if (r < 0)
		goto err;
	if (r == 0 || queue_env_parse(&m->env, env, (size_t)m->hdr.envlen) < 0) {
		if (errno == ENOMEM)
			goto err;
		goto notmail;
	}
	free(env);
	env = NULL;
	if (check_crc && (r = queue_msg_crc_ok(m)) <= 0) {
		if (r < 0)
			goto err;
		goto notmail;   /* blocks lost in a crash: never deliver them */
	}
	return 1;
notmail:
	free(env);
	queue_env_free(&m->env);
	close(m->fd);
	m->fd = -1;
	return 0;
err:
	r = errno;
	free(env);
	queue_env_free(&m->env);
	close(m->fd);
	m->fd = -1;
	errno = r;
	return -1;
}

void
queue_msg_close(struct queue_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	queue_env_free(&m->env);
}

int
queue_trigger_open(int flags)
{
	struct str p = STR_INIT;
	struct stat st;
	int fd = -1;
	/* O_NONBLOCK: a writer's open fails with ENXIO when no reader instead of waiting */
	if (queue_path(&p, "trigger", NULL) == 0)
		fd = open(p.s, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	str_free(&p);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		fd = -1;
	}
	return fd;
}

void
queue_trigger(void)
{
	int fd = queue_trigger_open(O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, "", 1) < 0) {
		/* a full pipe already holds a wakeup */
	}
	close(fd);
}

int
queue_state_init(struct queue_state *st, size_t n)
{
	size_t i;
	queue_state_free(st);
	if (n && !(st->r = calloc(n, sizeof *st->r))) {
		errno = ENOMEM;
		return -1;
	}
	st->n = n;
	for (i = 0; i < n; i++) {
		st->r[i].status = QS_PENDING;
		strcpy(st->r[i].dsn, "-");
	}
	return 0;
}

void
queue_state_free(struct queue_state *st)
{
	size_t i;
	for (i = 0; i < st->n; i++) {
		str_free(&st->r[i].host);
		str_free(&st->r[i].text);
	}
	free(st->r);
	st->r = NULL;
	st->n = 0;
	st->flags = 0;
}

/* next space-separated word of [*p, end); advances past one space */
static int
word(const char **p, const char *end, const char **w, size_t *wl)
{
	const char *s = *p, *q = memchr(s, ' ', (size_t)(end - s));
	if (!q || q == s)
		return -1;
	*w = s;
	*wl = (size_t)(q - s);
	*p = q + 1;
	return 0;
}

static int
word_num(const char **p, const char *end, unsigned long long max, unsigned long long *v)
{
	const char *w;
	size_t wl;
	if (word(p, end, &w, &wl) < 0)
		return -1;
	return scan_ulong(w, wl, max, v);
}

static int
dsn_ok(const char *w, size_t wl)
{
	size_t i;
	if (wl == 0 || wl > QUEUE_DSNCODE_MAX)
		return 0;
	for (i = 0; i < wl; i++)
		if (!((w[i] >= '0' && w[i] <= '9') || w[i] == '.' || (wl == 1 && w[i] == '-')))
			return 0;
	return 1;
}

int
queue_rstate_set(struct queue_rstate *r, const char *dsn, const char *host,
    const char *text, size_t textlen)
{
	size_t i, start;
	size_t dl = dsn ? strlen(dsn) : 0;
	if (dsn_ok(dsn ? dsn : "", dl))
		memcpy(r->dsn, dsn, dl + 1);
	else
		strcpy(r->dsn, "-");
	if (str_copys(&r->host, host && *host ? host : "-") < 0)
		return -1;
	for (i = 0; i < r->host.len; i++)
		if ((unsigned char)r->host.s[i] <= ' ' || r->host.s[i] == 0x7f)
			r->host.s[i] = '_';
	if (textlen > QUEUE_TEXT_MAX)
		textlen = QUEUE_TEXT_MAX;
	if (str_copyb(&r->text, text ? text : "", text ? textlen : 0) < 0)
		return -1;
	for (i = 0; i < r->text.len; i++)
		if ((unsigned char)r->text.s[i] < ' ' || r->text.s[i] == 0x7f)
			r->text.s[i] = ' ';
	for (start = 0; start < r->text.len && r->text.s[start] == ' '; start++)
		;
	if (start)
		str_copyb(&r->text, r->text.s + start, r->text.len - start);   /* shrinks: cannot fail */
	return 0;
}

int
queue_state_parse(struct queue_state *st, const char *b, size_t len, size_t nrcpt)
{
	const char *p = b, *end = b + len, *nl, *w;
	size_t i, wl;
	unsigned long long v;
	if (queue_state_init(st, nrcpt) < 0)
		return -1;
	nl = memchr(p, '\n', len);
	if (!nl || (size_t)(nl - p) < 6 || memcmp(p, "PMS1 ", 5) != 0)
		goto bad;
	for (w = p + 5; w < nl; w++)
		if (*w == 'w')
			st->flags |= QS_WARNED;
		else if (*w != '-')
			goto bad;
	p = nl + 1;
	for (i = 0; i < nrcpt; i++) {
		struct queue_rstate *r = &st->r[i];
		const char *host, *text;
		size_t hl;
		if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p))))
			goto bad;
		if (word(&p, nl, &w, &wl) < 0 || wl != 1 ||
		    (*w != QS_PENDING && *w != QS_DONE && *w != QS_FAILED && *w != QS_REPORTED &&
		     !queue_success_due(*w)))
			goto bad;
		r->status = *w;
		if (word_num(&p, nl, 1000000, &v) < 0)
			goto bad;
		r->attempts = (unsigned int)v;
		if (word_num(&p, nl, (unsigned long long)1 << 62, &r->next) < 0 ||
		    word_num(&p, nl, (unsigned long long)1 << 62, &r->last) < 0)
			goto bad;
		if (word(&p, nl, &w, &wl) < 0 || !dsn_ok(w, wl))
			goto bad;
		if (word(&p, nl, &host, &hl) < 0)
			goto bad;
		text = p;
		memcpy(r->dsn, w, wl);
		r->dsn[wl] = 0;
		if (str_copyb(&r->host, host, hl) < 0 || str_copyb(&r->text, text, (size_t)(nl - text)) < 0)
			return -1;
		p = nl + 1;
	}
	if (p != end)
		goto bad;
	return 0;
bad:
	queue_state_init(st, nrcpt);
	errno = EINVAL;
	return -1;
}

int
queue_state_fmt(const struct queue_state *st, struct str *out)
{
	size_t i;
	str_trunc(out, 0);
	if (str_cats(out, st->flags & QS_WARNED ? "PMS1 w\n" : "PMS1 -\n") < 0)
		return -1;
	for (i = 0; i < st->n; i++) {
		const struct queue_rstate *r = &st->r[i];
		if (str_catc(out, r->status) < 0 || str_catc(out, ' ') < 0 ||
		    str_catu(out, r->attempts) < 0 || str_catc(out, ' ') < 0 ||
		    str_catu(out, r->next) < 0 || str_catc(out, ' ') < 0 ||
		    str_catu(out, r->last) < 0 || str_catc(out, ' ') < 0 ||
		    str_cats(out, r->dsn[0] ? r->dsn : "-") < 0 || str_catc(out, ' ') < 0 ||
		    str_catb(out, r->host.len ? r->host.s : "-", r->host.len ? r->host.len : 1) < 0 ||
		    str_catc(out, ' ') < 0 || str_catb(out, r->text.s ? r->text.s : "", r->text.len) < 0 ||
		    str_catc(out, '\n') < 0)
			return -1;
	}
	return 0;
}

enum { STATE_FILE_MAX = 64 << 20 };

/* A state file begins "ID <id>\n": without a journal a crash can leave
 * state/ID naming an inode that still holds another file, e.g. another
 * message's older state (its inode freed and reused within the second,
 * the new one never written): read as this message's, its "done" would
 * drop recipients never delivered (test 205). The bytes to skip past the
 * line; 0 for a file without it (written before it existed); -1 when
 * it names another message or none. */
static size_t
state_id_line(const char *id, const char *b, size_t len)
{
	const char *nl;
	size_t il = strlen(id);
	if (len >= 5 && memcmp(b, "PMS1 ", 5) == 0)
		return 0;
	if (len < 3 || memcmp(b, "ID ", 3) != 0)
		return (size_t)-1;
	nl = memchr(b, '\n', len);
	if (!nl || (size_t)(nl - b) != 3 + il || memcmp(b + 3, id, il) != 0)
		return (size_t)-1;
	return 3 + il + 1;
}

int
queue_state_load(const char *id, struct queue_state *st, size_t nrcpt)
{
	struct str b = STR_INIT;
	int fd, r = -1;
	fd = queue_open_in("state", id, O_RDONLY, 0);
	if (fd < 0) {
		/* none, or not a plain file: corrupt, so fresh */
		if (errno == ENOENT || errno == EINVAL || errno == ELOOP)
			r = queue_state_init(st, nrcpt);
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (b.len > STATE_FILE_MAX || str_readyplus(&b, 8192) < 0)
			break;
		n = read(fd, b.s + b.len, 8192);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0) {
			const char *s = b.s;
			size_t len = b.len, skip = state_id_line(id, s, len);
			if (skip == (size_t)-1)
				r = queue_state_init(st, nrcpt);   /* another file's bytes: fresh */
			else if (queue_state_parse(st, s + skip, len - skip, nrcpt) == 0 || errno == EINVAL)
				r = st->r || nrcpt == 0 ? 0 : -1;   /* corrupt: fresh state */
			goto out;
		}
		b.len += (size_t)n;
	}
	r = queue_state_init(st, nrcpt);   /* absurdly large: fresh */
out:
	if (fd >= 0)
		close(fd);
	str_free(&b);
	return r;
}

void
queue_state_remove(const char *id)
{
	static const char *const side[] = { "", ".qmail", ".rep" };
	struct str p = STR_INIT;
	size_t i;
	for (i = 0; i < sizeof side / sizeof side[0]; i++)
		if (str_copys(&p, id) == 0 && str_cats(&p, side[i]) == 0)
			queue_unlink_in("state", p.s);
	str_free(&p);
}

int
queue_state_put(const char *name, const char *b, size_t len, int sync)
{
	struct str tmp = STR_INIT;
	int fd = -1, r = -1;
	if (str_copys(&tmp, name) < 0 || str_cats(&tmp, ".state") < 0)
		goto out;
	/* our scratch name: whatever is there (a crash's leftover, a planted
	 * link or FIFO) goes, and the file is made anew */
	queue_unlink_in("tmp", tmp.s);
	fd = queue_open_in("tmp", tmp.s, O_WRONLY | O_CREAT | O_EXCL, 0640);
	if (fd < 0)
		goto out;
	if (buf_writeall(fd, b, len, 0, 0) < 0 || (sync && fsync(fd) < 0) || close(fd) < 0) {
		fd = -1;
		queue_unlink_in("tmp", tmp.s);
		goto out;
	}
	fd = -1;
	if (queue_rename_in("tmp", tmp.s, "state", name, 0) < 0) {
		queue_unlink_in("tmp", tmp.s);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	str_free(&tmp);
	return r;
}

int
queue_state_save(const char *id, const struct queue_state *st)
{
	struct str b = STR_INIT, line = STR_INIT;
	int r = -1;
	if (str_copys(&b, "ID ") == 0 && str_cats(&b, id) == 0 && str_catc(&b, '\n') == 0 &&
	    queue_state_fmt(st, &line) == 0 && str_catb(&b, line.s, line.len) == 0)
		r = queue_state_put(id, b.s, b.len, 0);
	str_free(&b);
	str_free(&line);
	return r;
}

int
queue_sync_in(const char *sub)
{
	int fd, r, e;
	if (!sub)
		return sync_dir(queue_dir(), 0);
	if ((fd = queue_open_dir(sub)) < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
queue_result_parse(struct queue_result *res, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *w;
	size_t wl;
	unsigned long long v;
	if (word_num(&p, end, QUEUE_RCPT_MAX, &v) < 0)
		return -1;
	res->idx = (size_t)v;
	if (word(&p, end, &w, &wl) < 0)
		return -1;
	if (wl == 2 && memcmp(w, "ok", 2) == 0)
		res->status = 'o';
	else if (wl == 4 && memcmp(w, "temp", 4) == 0)
		res->status = 't';
	else if (wl == 4 && memcmp(w, "perm", 4) == 0)
		res->status = 'p';
	else if (wl == 7 && memcmp(w, "relayed", 7) == 0)
		res->status = 'r';
	else if (wl == 9 && memcmp(w, "forwarded", 9) == 0)
		res->status = 'F';
	else if (wl == 8 && memcmp(w, "expanded", 8) == 0)
		res->status = 'e';
	else
		return -1;
	if (word(&p, end, &w, &wl) < 0 || !dsn_ok(w, wl))
		return -1;
	memcpy(res->dsn, w, wl);
	res->dsn[wl] = 0;
	if (word(&p, end, &w, &wl) < 0 || str_copyb(&res->host, w, wl) < 0)
		return -1;
	return str_copyb(&res->text, p, (size_t)(end - p));
}
