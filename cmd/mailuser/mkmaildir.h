#ifndef MAILUSER_MKMAILDIR_H
#define MAILUSER_MKMAILDIR_H

#include <sys/types.h>

/* Create the Maildir dir (tmp, new, cur; mode 0700) owned by uid:gid when
 * run as root, and its missing parents (0755, so servers can traverse).
 * Existing directories are kept as they are. 0 ok, -1 errno. */
int mkmaildir(const char *dir, uid_t uid, gid_t gid);

#endif
