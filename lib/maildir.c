/* Maildir delivery, unique names, Maildir++ folders, name parsing.
 * The order in maildir_tmp_commit is the durability promise:
 * fsync(file), close, link into new/ (never rename over a name),
 * fsync(new/), then unlink the tmp name (an unnamed file: fsync, link
 * into new/, fsync it again for its link count, fsync(new/), close). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "maildir.h"
#include "buf.h"
#include "groupsync.h"
#include "scan.h"

enum {
	UNIQ_TRIES = 32,     /* exclusive-create / link attempts before giving up */
	HOST_MAX = 255,      /* host name bytes kept in a unique name */
	TMP_STALE_S = 36 * 3600,   /* Maildir: tmp/ files untouched this long are junk */
	QUOTA_FILE_MAX = 5120,   /* Maildir++: a bigger maildirsize is recalculated */
	QUOTA_READ_MAX = 65536,  /* never read more of maildirsize than this */
	QUOTA_STALE = 15 * 60,   /* Maildir++: over quota and older than this: recount */
	NUM_DIGITS = 20,     /* the widest number str_catu writes (2^64 - 1) */
	RANDOM_BYTES = 8,    /* uniq_again's R field, two hex digits each */
	/* A name's bytes besides the host, each number at its widest:
	 * SECONDS.M USEC P PID Q COUNTER R HEX . before it; ,S= SIZE ,W= VSIZE
	 * and an info a reader may add (":2," the six flags and 26 keyword
	 * letters) after it. */
	NAME_FIXED = 6 * NUM_DIGITS + (int)sizeof ".MPQR." - 1 + 2 * RANDOM_BYTES
	    + (int)sizeof ",S=,W=:2," - 1 + 6 + 26,
	/* the host's share of a name: past NAME_MAX every delivery fails */
	HOST_NAME_BUDGET = NAME_MAX - NAME_FIXED
};
#ifdef HOST_NAME_MAX
/* a host name without bytes to escape is never cut */
_Static_assert(HOST_NAME_BUDGET >= HOST_NAME_MAX, "host name budget");
#endif

static unsigned long long uniq_counter;
int maildir_use_tmpfile = 1;

static int
cat_dirfile(struct str *out, const char *dir, const char *sub, const char *name)
{
	if (str_copys(out, dir) < 0 || str_catc(out, '/') < 0 || str_cats(out, sub) < 0)
		return -1;
	if (name && (str_catc(out, '/') < 0 || str_cats(out, name) < 0))
		return -1;
	return 0;
}

static int sync_path(const char *path);

/* the directory that holds dir ("." for a bare name) */
static int
parent_of(struct str *out, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (n > 0 && dir[n - 1] != '/')
		n--;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return (n ? str_copyb(out, dir, n) : str_copys(out, ".")) < 0 || str_0(out) < 0 ? -1 : 0;
}

int
maildir_make(const char *dir, mode_t mode)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct str p = STR_INIT;
	size_t i;
	int made_top = 0, made_sub = 0;
	if (mkdir(dir, mode) == 0)
		made_top = 1;
	else if (errno != EEXIST)
		return -1;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (cat_dirfile(&p, dir, subs[i], NULL) < 0 || str_0(&p) < 0)
			goto fail;
		if (mkdir(p.s, mode) == 0)
			made_sub = 1;
		else if (errno != EEXIST)
			goto fail;
	}
	/* a directory made is there after a crash only once its parent is
	 * synced: new/ synced after a delivery's link does not cover new/'s
	 * own name, nor the Maildir's (test 194) */
	if (made_sub && sync_path(dir) < 0)
		goto fail;
	if (made_top && (parent_of(&p, dir) < 0 || sync_path(p.s) < 0))
		goto fail;
	str_free(&p);
	return 0;
fail:
	{
		int e = errno;
		str_free(&p);
		errno = e;
	}
	return -1;
}

int
maildir_folder_path(struct str *out, const char *maildir, const char *folder)
{
	size_t i, n = strlen(folder);
	/* IMAP's INBOX (any case) is the Maildir; "INBOX.x" is x, as
	 * Courier's and Dovecot's Maildir++ namespaces name folders */
	if (n >= 5 && strncasecmp(folder, "INBOX", 5) == 0 && (n == 5 || folder[5] == '.')) {
		if (n == 5)
			return str_copys(out, maildir) < 0 ? -1 : 1;
		folder += 6;
		n -= 6;
	}
	/* ".name" is one directory entry: a longer one can never be made */
	if (n == 0 || n > NAME_MAX - 1 || folder[0] == '.' || folder[n - 1] == '.')
		goto bad;
	/* ".qmail" is the user's delivery file (queue-run(8)), never a folder */
	if (n == 5 && memcmp(folder, "qmail", 5) == 0)
		goto bad;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)folder[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			goto bad;
		if (c == '.' && folder[i + 1] == '.')   /* "..", or an empty level */
			goto bad;
	}
	if (str_copys(out, maildir) < 0 || str_cats(out, "/.") < 0 || str_catb(out, folder, n) < 0)
		return -1;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Host name with the bytes that would break a name escaped as \ooo
 * (the Maildir convention for '/' and ':'; also ',' which starts a field),
 * cut at HOST_NAME_BUDGET bytes, never inside an escape: at four bytes
 * each, escapes took a name past NAME_MAX and every delivery failed
 * (ENAMETOOLONG) for as long as the host was so named (test 298). */
static int
cat_host(struct str *out)
{
	char h[HOST_MAX + 1];
	size_t i, room = HOST_NAME_BUDGET;
	if (gethostname(h, sizeof h) < 0 || !h[0])
		memcpy(h, "localhost", sizeof "localhost");
	h[HOST_MAX] = 0;
	for (i = 0; h[i]; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '/' || c == ':' || c == ',' || c == '\\' || c <= 0x20 || c >= 0x7f) {
			char esc[4] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)) };
			if (room < sizeof esc)
				break;
			if (str_catb(out, esc, sizeof esc) < 0)
				return -1;
			room -= sizeof esc;
		} else {
			if (room < 1)
				break;
			if (str_catc(out, (char)c) < 0)
				return -1;
			room--;
		}
	}
	return 0;
}

/* with_random: add "R<hex>" (the Maildir spec's field) from getrandom(2);
 * left out if it fails, the counter alone goes on */
static int
make_uniq(struct str *out, int with_random)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[RANDOM_BYTES];
	struct timeval tv;
	size_t i;
	gettimeofday(&tv, NULL);
	str_trunc(out, 0);
	if (str_catu(out, (unsigned long long)tv.tv_sec) < 0 || str_cats(out, ".M") < 0
	    || str_catu(out, (unsigned long long)tv.tv_usec) < 0 || str_catc(out, 'P') < 0
	    || str_catu(out, (unsigned long long)getpid()) < 0 || str_catc(out, 'Q') < 0
	    || str_catu(out, ++uniq_counter) < 0)
		return -1;
	if (with_random && getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) {
		if (str_catc(out, 'R') < 0)
			return -1;
		for (i = 0; i < sizeof r; i++)
			if (str_catc(out, hex[r[i] >> 4]) < 0 || str_catc(out, hex[r[i] & 15]) < 0)
				return -1;
	}
	return str_catc(out, '.') < 0 || cat_host(out) < 0 ? -1 : 0;
}

int
maildir_uniq(struct str *out)
{
	return make_uniq(out, 0);
}

/* The name again after it was found taken. The clock and the pid can
 * repeat (a stopped clock, a pid namespace) and the counter restarts
 * with each process: a later run of the same pid met its own earlier
 * names UNIQ_TRIES times and failed for ever (test 281). Random bytes
 * cannot repeat that way. */
static int
uniq_again(struct str *out)
{
	return make_uniq(out, 1);
}

static void
tmp_init(struct maildir_tmp *t)
{
	struct str z = STR_INIT;
	t->fd = -1;
	t->dir = z;
	t->uniq = z;
	t->tmppath = z;
	t->anon = 0;
}

/* "/proc/self/fd/N": how an unprivileged process links its O_TMPFILE
 * file (linkat AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH) */
static int
fd_path(struct str *out, int fd)
{
	return str_copys(out, "/proc/self/fd/") < 0 || str_catu(out, (unsigned long long)fd) < 0 ? -1 : 0;
}

/* An unnamed file in dir/tmp, when it can be linked later. -1 if not. */
static int
tmp_anon(struct maildir_tmp *t)
{
	struct str p = STR_INIT;
	struct stat a, b;
	int fd = -1;
	if (!maildir_use_tmpfile || cat_dirfile(&p, t->dir.s, "tmp", NULL) < 0)
		goto out;
	fd = open(p.s, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);   /* read back if it must be copied */
	if (fd < 0)
		goto out;
	/* its /proc/self/fd name must be this file (no /proc: named files) */
	if (fd_path(&p, fd) < 0 || fstat(fd, &a) < 0 || stat(p.s, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		close(fd);
		fd = -1;
	}
out:
	str_free(&p);
	return fd;
}

/* anon: an unnamed file where possible; else (a file to be renamed
 * into place, as maildirsize) always tmp/NAME */
static int
tmp_open(struct maildir_tmp *t, const char *dir, int anon)
{
	int i, e;
	tmp_init(t);
	if (str_copys(&t->dir, dir) < 0)
		goto fail;
	if (anon && (t->fd = tmp_anon(t)) >= 0) {
		/* the name new/ gets: link(2) there refuses one in use */
		if (maildir_uniq(&t->uniq) < 0)
			goto fail;
		t->anon = 1;
		return 0;
	}
	for (i = 0; i < UNIQ_TRIES; i++) {
		if ((i ? uniq_again(&t->uniq) : maildir_uniq(&t->uniq)) < 0 ||
		    cat_dirfile(&t->tmppath, dir, "tmp", t->uniq.s) < 0)
			goto fail;
		t->fd = open(t->tmppath.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			goto fail;
	}
fail:
	e = errno;
	maildir_tmp_free(t);
	errno = e;
	return -1;
}

int
maildir_tmp_open(struct maildir_tmp *t, const char *dir)
{
	return tmp_open(t, dir, 1);
}

/* Build SUBDIR/UNIQ,S=size[,W=vsize][:info] into path, the name into name. */
static int
final_path(const struct maildir_tmp *t, struct str *path, struct str *name, const char *subdir,
    const char *info, unsigned long long size, size_t vsize)
{
	str_trunc(name, 0);
	if (str_catb(name, t->uniq.s, t->uniq.len) < 0 || str_cats(name, ",S=") < 0 || str_catu(name, size) < 0)
		return -1;
	if (vsize != (size_t)-1 && (str_cats(name, ",W=") < 0 || str_catu(name, vsize) < 0))
		return -1;
	if (info && (str_catc(name, ':') < 0 || str_cats(name, info) < 0))
		return -1;
	return cat_dirfile(path, t->dir.s, subdir, name->s);
}

static struct groupsync *dir_group;

void
maildir_sync_group(struct groupsync *g)
{
	dir_group = g;
}

static int
sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, e;
	if (fd < 0)
		return -1;
	r = groupsync_fsync(dir_group, fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int
fsync_dir(const char *dir, const char *sub)
{
	struct str p = STR_INIT;
	int r = -1, e;
	if (cat_dirfile(&p, dir, sub, NULL) == 0)
		r = sync_path(p.s);
	e = errno;
	str_free(&p);
	errno = e;
	return r;
}

/* link(2) tmp into place; a file system without hard links gets
 * renameat2(RENAME_NOREPLACE), which is just as safe against overwriting. */
static int
place(const char *from, const char *to, int *renamed)
{
	*renamed = 0;
	if (link(from, to) == 0)
		return 0;
	if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0)
		return -1;
	*renamed = 1;
	return 0;
}

/* The unnamed file copied into a named one in tmp/, which becomes t's:
 * its link failed (a /proc that does not allow it). 0, or -1 errno. */
static int
materialize(struct maildir_tmp *t, off_t size)
{
	off_t off = 0;
	int fd = -1, i;
	for (i = 0; i < UNIQ_TRIES && fd < 0; i++) {
		if ((i ? uniq_again(&t->uniq) : maildir_uniq(&t->uniq)) < 0 ||
		    cat_dirfile(&t->tmppath, t->dir.s, "tmp", t->uniq.s) < 0)
			return -1;
		fd = open(t->tmppath.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t n = sendfile(fd, t->fd, &off, (size_t)(size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(t->tmppath.s);
			str_trunc(&t->tmppath, 0);
			errno = e;
			return -1;
		}
	}
	if (fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(t->tmppath.s);
		str_trunc(&t->tmppath, 0);
		errno = e;
		return -1;
	}
	close(t->fd);
	t->fd = fd;
	t->anon = 0;
	return 0;
}

/* Link the unnamed file into subdir under a unique name, sync subdir,
 * close it. 1 done, 0 not linkable (the caller names it and goes on the
 * usual way), -1 failed (errno; nothing left in subdir). */
static int
commit_anon(struct maildir_tmp *t, const char *subdir, const char *info, size_t vsize, const struct stat *st,
    struct str *final_name)
{
	struct str path = STR_INIT, name = STR_INIT, from = STR_INIT;
	int i, e, fd, r = -1;
	if (fd_path(&from, t->fd) < 0)
		goto out;
	for (i = 0;; i++) {
		if (final_path(t, &path, &name, subdir, info, (unsigned long long)st->st_size, vsize) < 0)
			goto out;
		if (maildir_use_tmpfile == 2)
			errno = EPERM;   /* tests: a /proc that refuses the link */
		else if (linkat(AT_FDCWD, from.s, AT_FDCWD, path.s, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST) {
			r = 0;
			goto out;
		}
		if (i + 1 >= UNIQ_TRIES || uniq_again(&t->uniq) < 0)
			goto out;
	}
	/* the file again: its fsync before the link wrote its inode with no
	 * link, and without a journal (ext2, ext4 -O ^has_journal) nothing
	 * else writes it before new/'s entry is on disk; after a crash fsck
	 * takes it for a deleted file and clears the entry (test 196) */
	if (fsync(t->fd) < 0 || (final_name && str_copyb(final_name, name.s, name.len) < 0) ||
	    fsync_dir(t->dir.s, subdir) < 0) {
		e = errno;
		unlink(path.s);   /* t->fd: the caller's abort closes it */
		errno = e;
		goto out;
	}
	fd = t->fd;
	t->fd = -1;
	if (close(fd) < 0) {   /* NFS reports write errors here */
		e = errno;
		unlink(path.s);
		errno = e;
		goto out;
	}
	r = 1;
out:
	e = errno;
	str_free(&path);
	str_free(&name);
	str_free(&from);
	errno = e;
	return r;
}

int
maildir_tmp_commit(struct maildir_tmp *t, const char *subdir, const char *info,
    size_t vsize, struct str *final_name)
{
	struct str path = STR_INIT, name = STR_INIT;
	struct stat st;
	int i, e, renamed = 0, fd = t->fd;
	if (fd < 0) {
		errno = EBADF;
		goto fail;
	}
	if (fsync(fd) < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (t->anon) {
		int r = commit_anon(t, subdir, info, vsize, &st, final_name);
		if (r == 1) {
			maildir_tmp_free(t);
			return 0;
		}
		if (r < 0 || materialize(t, st.st_size) < 0)
			goto fail;
		fd = t->fd;
	}
	t->fd = -1;
	if (close(fd) < 0)   /* NFS reports write errors here */
		goto fail;
	for (i = 0;; i++) {
		if (final_path(t, &path, &name, subdir, info, (unsigned long long)st.st_size, vsize) < 0)
			goto fail;
		if (place(t->tmppath.s, path.s, &renamed) == 0)
			break;
		/* another writer holds the name (pid reuse over a clock jump): pick a new one */
		if (errno != EEXIST || i + 1 >= UNIQ_TRIES || uniq_again(&t->uniq) < 0)
			goto fail;
	}
	/* the caller's copy of the name is made before the message counts as
	 * delivered, so a failure here cannot leave a message the caller
	 * believes undelivered */
	if ((final_name && str_copyb(final_name, name.s, name.len) < 0) || fsync_dir(t->dir.s, subdir) < 0) {
		e = errno;
		if (renamed)   /* back under the tmp/ name, which abort removes */
			rename(path.s, t->tmppath.s);
		else
			unlink(path.s);
		errno = e;
		goto fail;
	}
	if (!renamed)
		unlink(t->tmppath.s);   /* a leftover in tmp/ is harmless: readers sweep it (maildir_tmp_sweep) */
	str_free(&path);
	str_free(&name);
	maildir_tmp_free(t);
	return 0;
fail:
	e = errno;
	str_free(&path);
	str_free(&name);
	maildir_tmp_abort(t);
	errno = e;
	return -1;
}

void
maildir_tmp_abort(struct maildir_tmp *t)
{
	int e = errno;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmppath.s && t->tmppath.len)
		unlink(t->tmppath.s);
	maildir_tmp_free(t);
	errno = e;
}

int
maildir_tmp_sweep(int dirfd, time_t now, unsigned max)
{
	int fd = openat(dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW), gone = 0;
	DIR *d;
	struct dirent *de;
	unsigned seen = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (seen < max && (de = readdir(d))) {
		struct stat st;
		time_t last;
		if (de->d_name[0] == '.')
			continue;
		seen++;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* the latest of the three: atime alone can be frozen by noatime */
		last = st.st_mtime > st.st_atime ? st.st_mtime : st.st_atime;
		if (st.st_ctime > last)
			last = st.st_ctime;
		if (now - last > TMP_STALE_S && unlinkat(fd, de->d_name, 0) == 0)
			gone++;
	}
	closedir(d);
	return gone;
}

void
maildir_tmp_free(struct maildir_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	str_free(&t->dir);
	str_free(&t->uniq);
	str_free(&t->tmppath);
}

/* Leniency: an unreadable ",S=" or ",W=" value (another writer's scheme)
 * only clears has_size/has_vsize; the name is still a message. */
int
maildir_name_parse(const char *name, struct maildir_name *out)
{
	const char *p, *colon;
	size_t n;
	memset(out, 0, sizeof *out);
	if (!name || !name[0] || name[0] == '.' || strchr(name, '/'))
		return -1;
	n = strcspn(name, ",:");
	if (n == 0)
		return -1;
	out->uniq = name;
	out->uniqlen = n;
	colon = strchr(name, ':');
	p = name + n;
	while (*p == ',') {
		const char *v = p + 1, *end = v + strcspn(v, ",:");
		unsigned long long x;
		if (end - v > 2 && v[1] == '=' && (v[0] == 'S' || v[0] == 'W')
		    && scan_ulong(v + 2, (size_t)(end - v - 2), ~0ULL, &x) == 0) {
			if (v[0] == 'S') {
				out->size = x;
				out->has_size = 1;
			} else {
				out->vsize = x;
				out->has_vsize = 1;
			}
		}
		p = end;
	}
	if (colon && colon[1] == '2' && colon[2] == ',') {
		out->flags = colon + 3;
		out->flagslen = strlen(colon + 3);
	}
	return 0;
}

int
maildir_quota_parse(const char *spec, struct maildir_quota *q)
{
	const char *p = spec;
	memset(q, 0, sizeof *q);
	if (scan_ulongz(spec, ~0ULL, &q->max_bytes) == 0) {
		q->active = q->max_bytes != 0;
		return 0;
	}
	while (*p) {
		size_t n = strspn(p, "0123456789");
		unsigned long long v;
		if (scan_ulong(p, n, ~0ULL, &v) < 0 || (p[n] != 'S' && p[n] != 'C'))
			goto bad;
		if (p[n] == 'S')
			q->max_bytes = v;
		else
			q->max_count = v;
		p += n + 1;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	q->active = q->max_bytes || q->max_count;
	return 0;
bad:
	memset(q, 0, sizeof *q);
	errno = EINVAL;
	return -1;
}

static int
quota_line(struct str *out, const struct maildir_quota *q)
{
	str_trunc(out, 0);
	if (q->max_bytes && (str_catu(out, q->max_bytes) < 0 || str_catc(out, 'S') < 0))
		return -1;
	if (q->max_count && ((out->len && str_catc(out, ',') < 0) || str_catu(out, q->max_count) < 0
	    || str_catc(out, 'C') < 0))
		return -1;
	return str_0(out);
}

/* one signed decimal at *p, spaces before it skipped; -1 if none */
static int
scan_delta(const char **pp, const char *end, long long *out)
{
	const char *p = *pp;
	unsigned long long v;
	int neg = 0;
	size_t n = 0;
	while (p < end && *p == ' ')
		p++;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	while (p + n < end && p[n] >= '0' && p[n] <= '9')
		n++;
	if (scan_ulong(p, n, (unsigned long long)1 << 46, &v) < 0)
		return -1;
	*out = neg ? -(long long)v : (long long)v;
	*pp = p + n;
	return 0;
}

/* Parse the deltas after line 1: 0 ok, -1 corrupt (incl. a torn last line). */
static int
quota_sum(const char *p, const char *end, struct maildir_quota *q)
{
	q->bytes = q->count = 0;
	while (p < end) {
		long long b, c;
		if (scan_delta(&p, end, &b) < 0 || scan_delta(&p, end, &c) < 0)
			return -1;
		while (p < end && *p == ' ')
			p++;
		if (p >= end || *p != '\n')
			return -1;
		p++;
		/* bounded: each term is at most 2^46 and a file holds under 2^16 lines */
		q->bytes += b;
		q->count += c;
	}
	return 0;
}

static int
size_path(struct str *p, const char *maildir)
{
	return str_copys(p, maildir) < 0 || str_cats(p, "/maildirsize") < 0 ? -1 : 0;
}

/* count new/ and cur/ of one maildir (dirfd) into q */
static void
count_dir(int dirfd, struct maildir_quota *q)
{
	static const char *const subs[] = { "new", "cur" };
	size_t i;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		int fd = openat(dirfd, subs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d;
		struct dirent *e;
		if (fd < 0)
			continue;
		if (!(d = fdopendir(fd))) {
			close(fd);
			continue;
		}
		while ((e = readdir(d))) {
			struct maildir_name n;
			struct stat st;
			if (maildir_name_parse(e->d_name, &n) < 0)
				continue;
			if (!n.has_size) {
				if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
					continue;
				n.size = (unsigned long long)st.st_size;
			}
			if (n.size < (unsigned long long)1 << 62 && q->bytes < (long long)1 << 62)
				q->bytes += (long long)n.size;
			q->count++;
		}
		closedir(d);
	}
}

int
maildir_quota_recalc(const char *maildir, struct maildir_quota *q)
{
	struct maildir_tmp t;
	struct str line = STR_INIT, path = STR_INIT;
	int top, e;
	DIR *d;
	struct dirent *ent;

	q->bytes = q->count = 0;
	q->stale = 0;
	if ((top = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	count_dir(top, q);
	if ((d = fdopendir(dup(top)))) {
		while ((ent = readdir(d))) {
			int fd;
			if (ent->d_name[0] != '.' || !strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
				continue;
			if ((fd = openat(top, ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				continue;
			count_dir(fd, q);
			close(fd);
		}
		closedir(d);
	}
	close(top);
	if (tmp_open(&t, maildir, 0) < 0)
		return -1;
	if (quota_line(&line, q) < 0 || str_catc(&line, '\n') < 0 || str_catu(&line, (unsigned long long)q->bytes) < 0
	    || str_catc(&line, ' ') < 0 || str_catu(&line, (unsigned long long)q->count) < 0 || str_catc(&line, '\n') < 0
	    || buf_writeall(t.fd, line.s, line.len, 0, 0) < 0 || fsync(t.fd) < 0 || size_path(&path, maildir) < 0
	    || rename(t.tmppath.s, path.s) < 0)
		goto fail;
	str_free(&line);
	str_free(&path);
	maildir_tmp_free(&t);
	return 0;
fail:
	e = errno;
	str_free(&line);
	str_free(&path);
	maildir_tmp_abort(&t);
	errno = e;
	return -1;
}

int
maildir_quota_get(const char *maildir, const char *spec, struct maildir_quota *q)
{
	struct maildir_quota want;
	struct str path = STR_INIT, line = STR_INIT;
	char *data = NULL;
	size_t len = 0;
	ssize_t r;
	struct stat st;
	int fd = -1, e, recount = 0;
	const char *nl;

	memset(q, 0, sizeof *q);
	if (spec) {
		if (maildir_quota_parse(spec, &want) < 0)
			return -1;
		if (!want.active)
			return 0;   /* the admin says: no quota, whatever the file holds */
	}
	if (size_path(&path, maildir) < 0)
		return -1;
	/* O_NONBLOCK: the Maildir is the user's, and a FIFO put there would
	 * block this open (and the delivery) for good */
	fd = open(path.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	str_free(&path);
	if (fd < 0) {
		if (errno != ENOENT)
			return -1;
		if (!spec)
			return 0;
		*q = want;
		return maildir_quota_recalc(maildir, q);
	}
	if (fstat(fd, &st) < 0 || !(data = malloc(QUOTA_READ_MAX)))
		goto fail;
	/* anything but a plain file reads as empty: corrupt, so rebuilt */
	while (S_ISREG(st.st_mode) && len < QUOTA_READ_MAX && (r = read(fd, data + len, QUOTA_READ_MAX - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		len += (size_t)r;
	}
	close(fd);
	fd = -1;
	nl = memchr(data, '\n', len);
	if (nl) {
		/* line 1 copied so the parser sees a C string */
		if (str_copyb(&line, data, (size_t)(nl - data)) < 0)
			goto fail;
		if (maildir_quota_parse(line.s, q) < 0)
			memset(q, 0, sizeof *q);
	}
	if (spec) {
		struct str a = STR_INIT, b = STR_INIT;
		int differ = quota_line(&a, q) < 0 || quota_line(&b, &want) < 0 || strcmp(a.s, b.s) != 0;
		str_free(&a);
		str_free(&b);
		if (differ) {
			*q = want;
			recount = 1;
		}
	} else if (!q->active) {
		/* no usable line 1 and nothing from the admin: no quota we could enforce */
		goto none;
	}
	if (!recount)
		recount = st.st_size > QUOTA_FILE_MAX || !nl || quota_sum(nl + 1, data + len, q) < 0
		    || q->bytes < 0 || q->count < 0;   /* deltas may be negative, a total may not */
	/* whether it is over depends on the message: maildir_quota_check */
	q->stale = !recount && st.st_mtime + QUOTA_STALE < time(NULL);
	free(data);
	str_free(&line);
	return recount ? maildir_quota_recalc(maildir, q) : 0;
none:
	free(data);
	str_free(&line);
	memset(q, 0, sizeof *q);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(data);
	str_free(&line);
	errno = e;
	return -1;
}

int
maildir_quota_over(const struct maildir_quota *q, unsigned long long bytes, unsigned long long count)
{
	unsigned long long b = q->bytes > 0 ? (unsigned long long)q->bytes : 0;
	unsigned long long c = q->count > 0 ? (unsigned long long)q->count : 0;
	if (!q->active)
		return 0;
	if (q->max_bytes && (bytes > q->max_bytes || b > q->max_bytes - bytes))
		return 1;
	if (q->max_count && (count > q->max_count || c > q->max_count - count))
		return 1;
	return 0;
}

int
maildir_quota_check(const char *maildir, struct maildir_quota *q, unsigned long long bytes,
    unsigned long long count)
{
	if (!maildir_quota_over(q, bytes, count))
		return 0;
	/* a recount that fails leaves the file's word standing */
	if (q->stale && maildir_quota_recalc(maildir, q) == 0)
		return maildir_quota_over(q, bytes, count);
	return 1;
}

int
maildir_quota_add(const char *maildir, long long bytes, long long count)
{
	struct str path = STR_INIT, line = STR_INIT;
	int fd, e, r = -1;
	if (size_path(&path, maildir) < 0)
		return -1;
	fd = open(path.s, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		str_free(&path);
		if (e == ENOENT)
			return 0;
		errno = e;
		return -1;
	}
	if ((bytes >= 0 || str_catc(&line, '-') == 0)
	    && str_catu(&line, bytes < 0 ? -(unsigned long long)bytes : (unsigned long long)bytes) == 0
	    && str_catc(&line, ' ') == 0 && (count >= 0 || str_catc(&line, '-') == 0)
	    && str_catu(&line, count < 0 ? -(unsigned long long)count : (unsigned long long)count) == 0
	    && str_catc(&line, '\n') == 0) {
		/* one write, so concurrent writers' lines never interleave */
		ssize_t w = write(fd, line.s, line.len);
		r = w == (ssize_t)line.len ? 0 : -1;
		if (w >= 0 && r < 0)
			errno = EIO;
	}
	e = errno;
	close(fd);
	str_free(&path);
	str_free(&line);
	errno = e;
	return r;
}
