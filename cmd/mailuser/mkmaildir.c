/* A new user's Maildir. Not lib/maildir's maildir_make: ownership and the
 * parents matter here, and only the admin command needs them. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mkmaildir.h"
#include "str.h"

/* mkdirat + chown when we created it. 1 created, 0 existed, -1 error */
static int
mkown(int at, const char *name, mode_t mode, uid_t uid, gid_t gid, int own)
{
	struct stat st;
	if (mkdirat(at, name, mode) < 0) {
		if (errno != EEXIST)
			return -1;
		if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		return 0;
	}
	/* umask must not narrow the mode we promise */
	if (fchmodat(at, name, mode, 0) < 0)
		return -1;
	if (own && fchownat(at, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return 1;
}

int
mkmaildir(const char *dir, uid_t uid, gid_t gid)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	struct str p = STR_INIT;
	int own = geteuid() == 0, fd, e;
	size_t i;

	if (str_copys(&p, dir) < 0 || str_0(&p) < 0)
		return -1;
	while (p.len > 1 && p.s[p.len - 1] == '/')
		str_trunc(&p, p.len - 1);
	/* parents: root's, traversable */
	for (i = 1; i < p.len; i++) {
		if (p.s[i] != '/')
			continue;
		p.s[i] = 0;
		if (mkown(AT_FDCWD, p.s, 0755, 0, 0, 0) < 0) {
			e = errno;
			str_free(&p);
			errno = e;
			return -1;
		}
		p.s[i] = '/';
	}
	if (mkown(AT_FDCWD, p.s, 0700, uid, gid, own) < 0)
		goto fail;
	fd = open(p.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (mkown(fd, sub[i], 0700, uid, gid, own) < 0) {
			e = errno;
			close(fd);
			errno = e;
			goto fail;
		}
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		goto fail;
	}
	close(fd);
	str_free(&p);
	return 0;
fail:
	e = errno;
	str_free(&p);
	errno = e;
	return -1;
}
