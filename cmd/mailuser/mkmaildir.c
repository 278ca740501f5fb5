/* A new user's Maildir. Not lib/maildir's maildir_make: ownership and the
 * parents matter here, and only the admin command needs them.
 * Root walks the path one directory at a time, each opened without
 * following a link, and sets modes and owners through the descriptors:
 * whoever may write a directory on the way (the mail user, owning a
 * domain's directory) cannot swap a link in and have root chmod or chown
 * its target (test 228). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mkmaildir.h"
#include "str.h"

/* name in the directory at, made (mode; owner uid:gid if own) when
 * missing, opened: the descriptor, or -1 (ENOTDIR or ELOOP for a
 * non-directory or a link) */
static int
mkopen(int at, const char *name, mode_t mode, uid_t uid, gid_t gid, int own)
{
	int made, fd, e;
	if (mkdirat(at, name, mode) == 0)
		made = 1;
	else if (errno == EEXIST)
		made = 0;
	else
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* umask must not narrow the mode we promise */
	if (made && (fchmod(fd, mode) < 0 || (own && fchown(fd, uid, gid) < 0))) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
mkmaildir(const char *dir, uid_t uid, gid_t gid)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	struct str p = STR_INIT;
	int own = geteuid() == 0, at, fd, e;
	size_t i, start, end;

	if (str_copys(&p, dir) < 0 || str_0(&p) < 0)
		return -1;
	at = open(p.s[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (at < 0)
		goto fail;
	/* each component: parents root's and traversable, the last the user's */
	for (start = 0; start < p.len; start = end + 1) {
		int last;
		for (end = start; end < p.len && p.s[end] != '/'; end++)
			;
		if (end == start)
			continue;
		p.s[end] = 0;
		for (i = end + 1; i < p.len && p.s[i] == '/'; i++)
			;
		last = i >= p.len;
		fd = mkopen(at, p.s + start, last ? 0700 : 0755, uid, gid, last && own);
		e = errno;
		close(at);
		errno = e;
		if (fd < 0)
			goto fail;
		at = fd;
	}
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if ((fd = mkopen(at, sub[i], 0700, uid, gid, own)) < 0)
			goto fail_at;
		close(fd);
	}
	if (fsync(at) < 0)
		goto fail_at;
	close(at);
	str_free(&p);
	return 0;
fail_at:
	e = errno;
	close(at);
	errno = e;
fail:
	e = errno;
	str_free(&p);
	errno = e;
	return -1;
}
