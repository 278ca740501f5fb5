/* Token database: read side (mmap, interpolation search over uniformly
 * distributed hashes: one or two page touches per token) and the atomic
 * merge that training uses. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "db.h"
#include "str.h"

static const char magic1[8] = { 'p', 'm', 's', 'p', 'a', 'm', '1', '\n' };
static const char magic2[8] = { 'p', 'm', 's', 'p', 'a', 'm', '2', '\n' };
static const char magic[8] = { 'p', 'm', 's', 'p', 'a', 'm', '3', '\n' };
enum { HEADER = 64, ENTRY = 16, WEIGHT = 4 };

struct header {
	char magic[8];
	uint32_t order;          /* 0x01020304 in host order: a foreign file is refused */
	uint32_t entry;          /* ENTRY */
	uint64_t count, nspam, nham;
	double bias;             /* version 2 */
	uint32_t flags;          /* version 3: none defined yet, must be 0 */
	float cal_a, cal_b;      /* version 3: the calibration, 0 0 if none */
	char pad[HEADER - 60];
};

static int
db_openf(struct db *d, const char *path, int flags)
{
	struct stat st;
	struct header h;
	int fd, v2, v3;
	uint64_t per;
	memset(d, 0, sizeof *d);
	/* O_NONBLOCK: a FIFO there must not hang us; it is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size < HEADER || (uint64_t)st.st_size > SIZE_MAX / 2)
		goto corrupt;
	d->maplen = (size_t)st.st_size;
	d->mode = (unsigned)st.st_mode & 07777;
	d->uid = (unsigned)st.st_uid;
	d->gid = (unsigned)st.st_gid;
	d->map = mmap(NULL, d->maplen, PROT_READ, MAP_SHARED, fd, 0);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		goto fail;
	}
	close(fd);
	memcpy(&h, d->map, sizeof h);
	v3 = !memcmp(h.magic, magic, sizeof magic);
	v2 = v3 || !memcmp(h.magic, magic2, sizeof magic2);   /* has weights */
	per = ENTRY + (v2 ? WEIGHT : 0);
	/* a file from a later version (pmspam4...) is refused like a corrupt one */
	if ((!v2 && memcmp(h.magic, magic1, sizeof magic1)) || h.order != 0x01020304 || h.entry != ENTRY
	    || (v3 && h.flags)
	    || (v3 && !(h.cal_a >= 0 && h.cal_a <= 1000 && h.cal_b >= 0 && h.cal_b <= 1000))
	    || h.count > (d->maplen - HEADER) / per || HEADER + h.count * per != d->maplen
	    || (v2 && !(h.bias > -1e6 && h.bias < 1e6))) {
		db_close(d);
		errno = EPROTO;
		return -1;
	}
	d->version = v3 ? 3 : v2 ? 2 : 1;
	if (v3) {
		d->cal_a = h.cal_a;
		d->cal_b = h.cal_b;
	}
	d->count = h.count;
	d->nspam = h.nspam;
	d->nham = h.nham;
	d->e = (const struct db_entry *)((const char *)d->map + HEADER);
	if (v2) {
		d->w = (const float *)((const char *)d->map + HEADER + h.count * ENTRY);
		d->bias = h.bias;
	}
	return 0;
corrupt:
	errno = EPROTO;
fail:
	close(fd);
	return -1;
}

int
db_open(struct db *d, const char *path)
{
	return db_openf(d, path, 0);
}

int
db_open_replace(struct db *d, const char *path)
{
	return db_openf(d, path, O_NOFOLLOW);
}

void
db_close(struct db *d)
{
	if (d->map)
		munmap(d->map, d->maplen);
	memset(d, 0, sizeof *d);
}

/* the index of token h, or d->count if absent */
static size_t
db_find(const struct db *d, uint64_t h)
{
	size_t lo, hi, g, step;
	if (!d->count)
		return 0;
	g = (size_t)(((unsigned __int128)h * d->count) >> 64);   /* where a uniform hash lands */
	/* gallop from the guess to a bracket [lo, hi) that holds h if present */
	if (d->e[g].h < h) {
		lo = g + 1;
		for (step = 1; lo + step < d->count && d->e[lo + step - 1].h < h; step *= 2)
			lo += step;
		hi = lo + step < d->count ? lo + step : d->count;
	} else {
		hi = g + 1;
		for (step = 1; hi > step && d->e[hi - step - 1].h >= h; step *= 2)
			hi -= step;
		lo = hi > step ? hi - step - 1 : 0;
	}
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (d->e[m].h < h)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < d->count && d->e[lo].h == h ? lo : d->count;
}

int
db_lookup(const struct db *d, uint64_t h, uint32_t *spam, uint32_t *ham)
{
	size_t i = db_find(d, h);
	if (i >= d->count)
		return 0;
	*spam = d->e[i].spam;
	*ham = d->e[i].ham;
	return 1;
}

int
db_lookup_w(const struct db *d, uint64_t h, uint32_t *spam, uint32_t *ham, double *w)
{
	size_t i = db_find(d, h);
	if (i >= d->count)
		return 0;
	*spam = d->e[i].spam;
	*ham = d->e[i].ham;
	*w = d->w ? d->w[i] : 0;
	if (!(*w > -1e6 && *w < 1e6))
		*w = 0;   /* NaN or absurd: a corrupt weight, not evidence (the bias has the same bound) */
	return 1;
}

void
delta_init(struct db_delta *x)
{
	memset(x, 0, sizeof *x);
}

void
delta_free(struct db_delta *x)
{
	free(x->v);
	delta_init(x);
}

static int
delta_grow(struct db_delta *x)
{
	size_t ncap = x->cap ? x->cap * 2 : 65536, i;
	struct delta_slot *v;
	if (ncap > SIZE_MAX / sizeof *v / 2)
		return -1;
	v = calloc(ncap, sizeof *v);
	if (!v)
		return -1;
	for (i = 0; i < x->cap; i++)
		if (x->v[i].used) {
			size_t k = (size_t)x->v[i].h & (ncap - 1);
			while (v[k].used)
				k = (k + 1) & (ncap - 1);
			v[k] = x->v[i];
		}
	free(x->v);
	x->v = v;
	x->cap = ncap;
	return 0;
}

struct delta_slot *
delta_find(const struct db_delta *x, uint64_t h)
{
	size_t k;
	if (!x->cap)
		return NULL;
	for (k = (size_t)h & (x->cap - 1); x->v[k].used; k = (k + 1) & (x->cap - 1))
		if (x->v[k].h == h)
			return &x->v[k];
	return NULL;
}

int
delta_add(struct db_delta *x, const struct toks *t, int dspam, int dham)
{
	size_t i;
	for (i = 0; i < t->n; i++) {
		uint64_t h = t->v[i].h;
		size_t k;
		if ((x->n + 1) * 2 > x->cap && delta_grow(x) < 0) {
			errno = ENOMEM;
			return -1;
		}
		k = (size_t)h & (x->cap - 1);
		while (x->v[k].used && x->v[k].h != h)
			k = (k + 1) & (x->cap - 1);
		if (!x->v[k].used) {
			x->v[k].used = 1;
			x->v[k].h = h;
			x->v[k].pair = t->v[i].pair;
			x->n++;
		}
		x->v[k].spam += dspam;
		x->v[k].ham += dham;
	}
	x->nspam += dspam;
	x->nham += dham;
	return 0;
}

int
delta_live(const struct delta_slot *p)
{
	return !p->pair || p->stored || p->spam + p->ham >= TOK_PAIR_MIN;
}

static int
cmp_slot(const void *a, const void *b)
{
	uint64_t x = ((const struct delta_slot *)a)->h, y = ((const struct delta_slot *)b)->h;
	return x < y ? -1 : x > y;
}

static uint32_t
apply(uint32_t have, int32_t d)
{
	int64_t v = (int64_t)have + d;
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int
put_entry(struct buf *b, uint64_t h, uint32_t s, uint32_t g, float w, float *ws, uint64_t *count)
{
	struct db_entry e;
	if (!s && !g)
		return 0;   /* a token no message holds any more */
	e.h = h;
	e.spam = s;
	e.ham = g;
	ws[(*count)++] = w;
	return buf_put(b, (const char *)&e, sizeof e);
}

int
db_lock(const char *path)
{
	struct str lock = STR_INIT;
	struct stat st;
	int lfd = -1, e;
	if (str_copys(&lock, path) < 0 || str_cats(&lock, ".lock") < 0 || str_0(&lock) < 0) {
		str_free(&lock);
		return -1;
	}
	/* never through a symbolic link: a per-user database's directory may
	 * be writable by the mail user while root trains it. Read-write
	 * where we may (NFS emulates flock with fcntl locks, and an
	 * exclusive one needs a descriptor open for writing), else
	 * read-only, as a local flock needs no more: a lock file another
	 * trainer made (root's 0644 in the user's Maildir, one cron job's
	 * beside another's) must not lock the next one out. O_NONBLOCK and
	 * the check below: a FIFO planted there must not hang root's
	 * training */
	lfd = open(lock.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644);
	if (lfd < 0 && errno == EACCES)
		lfd = open(lock.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (lfd >= 0) {
		e = fstat(lfd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EPROTO : flock(lfd, LOCK_EX) < 0 ? errno : 0;
		if (e) {
			close(lfd);
			errno = e;
			lfd = -1;
		}
	}
	e = errno;
	str_free(&lock);
	errno = e;
	return lfd;
}

int
db_update(const char *path, struct db_delta *x)
{
	int lfd = db_lock(path), rc, e;
	if (lfd < 0)
		return -1;
	rc = db_update_locked(path, x);
	e = errno;
	close(lfd);
	errno = e;
	return rc;
}

/* The new file can be read by whoever could read the old one: a
 * trainer's umask (root's 027 or 077 in a cron job) must not lock the
 * classifiers (smtp-recv's user, a user's delivery) out, which would
 * turn every message away with a temporary failure. Its group, and for
 * root its owner (a user's own database stays theirs), where we may set
 * them; where we may not, the old bits would grant the wrong group, so
 * it gets the bits a new database gets (0644 less the umask). It is made
 * 0600 and opened up here, when whole: no one reads it through the
 * temporary name that may not read the database. */
static int
keep_access(int fd, const struct db *old)
{
	mode_t mask;
	if (old->version) {   /* not a new database */
		if (fchown(fd, geteuid() == 0 ? (uid_t)old->uid : (uid_t)-1, (gid_t)old->gid) == 0)
			return fchmod(fd, (mode_t)(old->mode & 0777));
		if (errno != EPERM)
			return -1;
	}
	mask = umask(0);
	umask(mask);
	return fchmod(fd, 0644 & ~mask);
}

int
db_update_locked(const char *path, struct db_delta *x)
{
	struct str tmp = STR_INIT, dir = STR_INIT;
	struct db old;
	struct header h;
	struct buf b;
	char space[BUF_SIZE * 4];
	size_t i, j = 0, n = 0;
	uint64_t count = 0;
	float *ws = NULL;
	int fd = -1, dfd, rc = -1, e, made = 0;
	const char *slash;
	memset(&old, 0, sizeof old);
	if (str_copys(&tmp, path) < 0 || str_cats(&tmp, ".tmp") < 0 || str_0(&tmp) < 0)
		goto done;
	if (db_open_replace(&old, path) < 0)
		goto done;
	/* compact the delta slots into a sorted array */
	for (i = 0; i < x->cap; i++)
		if (x->v[i].used)
			x->v[n++] = x->v[i];
	if (n)   /* no message learnt (an empty folder): v may be NULL, and qsort's is nonnull */
		qsort(x->v, n, sizeof *x->v, cmp_slot);
	if (!(ws = malloc((old.count + n + 1) * sizeof *ws)))
		goto done;
	if (unlink(tmp.s) < 0 && errno != ENOENT)   /* a leftover (or planted) one; we hold the lock */
		goto done;
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);   /* keep_access */
	if (fd < 0)
		goto done;
	made = 1;
	buf_init(&b, fd, space, sizeof space);
	memset(&h, 0, sizeof h);
	if (buf_put(&b, (const char *)&h, sizeof h) < 0)
		goto done;
	for (i = 0; i < old.count || j < n;) {
		if (j >= n || (i < old.count && old.e[i].h < x->v[j].h)) {
			if (put_entry(&b, old.e[i].h, old.e[i].spam, old.e[i].ham, old.w ? old.w[i] : 0, ws, &count) < 0)
				goto done;
			i++;
		} else if (i >= old.count || x->v[j].h < old.e[i].h) {
			if (delta_live(&x->v[j]) && put_entry(&b, x->v[j].h, apply(0, x->v[j].spam), apply(0, x->v[j].ham),
			    x->v[j].wset ? x->v[j].w : 0, ws, &count) < 0)
				goto done;
			j++;
		} else {
			if (put_entry(&b, x->v[j].h, apply(old.e[i].spam, x->v[j].spam), apply(old.e[i].ham, x->v[j].ham),
			    x->v[j].wset ? x->v[j].w : old.w ? old.w[i] : 0, ws, &count) < 0)
				goto done;
			i++;
			j++;
		}
	}
	if (buf_put(&b, (const char *)ws, count * sizeof *ws) < 0 || buf_flush(&b) < 0)
		goto done;
	memcpy(h.magic, magic, sizeof magic);
	h.bias = x->biasset ? x->bias : old.bias;
	h.flags = 0;
	h.cal_a = (float)(x->calset ? x->cal_a : old.cal_a);
	h.cal_b = (float)(x->calset ? x->cal_b : old.cal_b);
	h.order = 0x01020304;
	h.entry = ENTRY;
	h.count = count;
	h.nspam = (uint64_t)((int64_t)old.nspam + x->nspam < 0 ? 0 : (int64_t)old.nspam + x->nspam);
	h.nham = (uint64_t)((int64_t)old.nham + x->nham < 0 ? 0 : (int64_t)old.nham + x->nham);
	if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		goto done;
	if (keep_access(fd, &old) < 0 || fsync(fd) < 0)
		goto done;
	e = close(fd);
	fd = -1;
	if (e < 0)
		goto done;
	if (rename(tmp.s, path) < 0)
		goto done;
	slash = strrchr(path, '/');
	if (str_copyb(&dir, path, slash ? (size_t)(slash - path) + 1 : 1) < 0 || str_0(&dir) < 0)
		goto done;
	if (!slash)
		dir.s[0] = '.';
	dfd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	delta_free(x);
done:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && made)
		unlink(tmp.s);   /* a failed fsync, close or rename leaves none behind either */
	db_close(&old);
	free(ws);
	str_free(&tmp);
	str_free(&dir);
	errno = e;
	return rc;
}
