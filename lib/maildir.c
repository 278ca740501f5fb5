/* Maildir delivery, unique names, Maildir++ folders, name parsing.
 * The order in maildir_tmp_commit is the durability promise:
 * fsync(file), close, link into new/ (never rename over a name),
 * fsync(new/), then unlink the tmp name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "maildir.h"
#include "scan.h"

enum {
	UNIQ_TRIES = 32,     /* exclusive-create / link attempts before giving up */
	HOST_MAX = 255       /* host name bytes kept in a unique name */
};

static unsigned long long uniq_counter;

static int
cat_dirfile(struct str *out, const char *dir, const char *sub, const char *name)
{
	if (str_copys(out, dir) < 0 || str_catc(out, '/') < 0 || str_cats(out, sub) < 0)
		return -1;
	if (name && (str_catc(out, '/') < 0 || str_cats(out, name) < 0))
		return -1;
	return 0;
}

int
maildir_make(const char *dir, mode_t mode)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct str p = STR_INIT;
	size_t i;
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -1;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (cat_dirfile(&p, dir, subs[i], NULL) < 0 || str_0(&p) < 0)
			goto fail;
		if (mkdir(p.s, mode) < 0 && errno != EEXIST)
			goto fail;
	}
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
	if (n == 0 || folder[0] == '.' || folder[n - 1] == '.')
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
 * (the Maildir convention for '/' and ':'; also ',' which starts a field). */
static int
cat_host(struct str *out)
{
	char h[HOST_MAX + 1];
	size_t i;
	if (gethostname(h, sizeof h) < 0 || !h[0])
		memcpy(h, "localhost", sizeof "localhost");
	h[HOST_MAX] = 0;
	for (i = 0; h[i]; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '/' || c == ':' || c == ',' || c == '\\' || c <= 0x20 || c >= 0x7f) {
			char esc[4] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)) };
			if (str_catb(out, esc, sizeof esc) < 0)
				return -1;
		} else if (str_catc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

int
maildir_uniq(struct str *out)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	str_trunc(out, 0);
	if (str_catu(out, (unsigned long long)tv.tv_sec) < 0 || str_cats(out, ".M") < 0
	    || str_catu(out, (unsigned long long)tv.tv_usec) < 0 || str_catc(out, 'P') < 0
	    || str_catu(out, (unsigned long long)getpid()) < 0 || str_catc(out, 'Q') < 0
	    || str_catu(out, ++uniq_counter) < 0 || str_catc(out, '.') < 0 || cat_host(out) < 0)
		return -1;
	return 0;
}

static void
tmp_init(struct maildir_tmp *t)
{
	struct str z = STR_INIT;
	t->fd = -1;
	t->dir = z;
	t->uniq = z;
	t->tmppath = z;
}

int
maildir_tmp_open(struct maildir_tmp *t, const char *dir)
{
	int i, e;
	tmp_init(t);
	if (str_copys(&t->dir, dir) < 0)
		goto fail;
	for (i = 0; i < UNIQ_TRIES; i++) {
		if (maildir_uniq(&t->uniq) < 0 || cat_dirfile(&t->tmppath, dir, "tmp", t->uniq.s) < 0)
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

static int
fsync_dir(const char *dir, const char *sub)
{
	struct str p = STR_INIT;
	int fd, r = -1, e;
	if (cat_dirfile(&p, dir, sub, NULL) < 0)
		return -1;
	fd = open(p.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd);
		e = errno;
		close(fd);
		errno = e;
	}
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
	t->fd = -1;
	if (close(fd) < 0)   /* NFS reports write errors here */
		goto fail;
	for (i = 0;; i++) {
		if (final_path(t, &path, &name, subdir, info, (unsigned long long)st.st_size, vsize) < 0)
			goto fail;
		if (place(t->tmppath.s, path.s, &renamed) == 0)
			break;
		/* another writer holds the name (pid reuse over a clock jump): pick a new one */
		if (errno != EEXIST || i + 1 >= UNIQ_TRIES || maildir_uniq(&t->uniq) < 0)
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
		unlink(t->tmppath.s);   /* a leftover link in tmp/ is harmless; it is swept later */
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
