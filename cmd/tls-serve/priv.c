/* tls-serve's privilege drop, after the key is loaded: setgroups,
 * setresgid, setresuid, each checked and verified; then not dumpable, so
 * prog (same uid) cannot read the key out of this process. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "scan.h"
#include "tls-serve.h"

enum { ID_MAX = 4294967294U };

/* uid:gid numerically, or a user name; NULL falls back to $UID/$GID the
 * way ucspi-tcp's envuidgid hands them on. 1 if an identity was named. */
static int
target_ids(const char *user, uid_t *uid, gid_t *gid)
{
	unsigned long long u, g;
	const char *colon;
	if (!user) {
		const char *eu = getenv("UID"), *eg = getenv("GID");
		if (!eu && !eg)
			return 0;
		if (!eu || !eg || scan_ulongz(eu, ID_MAX, &u) < 0 || scan_ulongz(eg, ID_MAX, &g) < 0)
			die_x(EXIT_TEMP, "use", "$UID and $GID", "both must be numbers");
	} else if ((colon = strchr(user, ':'))) {
		if (scan_ulong(user, (size_t)(colon - user), ID_MAX, &u) < 0 ||
		    scan_ulongz(colon + 1, ID_MAX, &g) < 0)
			die_x(EXIT_PERM, "use", user, "not uid:gid or a user name");
	} else {
		struct passwd *pw;
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			die_x(EXIT_TEMP, "find user", user, errno ? strerror(errno) : "no such user");
		u = pw->pw_uid;
		g = pw->pw_gid;
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

int
drop_privileges(const char *user)
{
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;
	int changed = 0;
	if (target_ids(user, &uid, &gid)) {
		if (geteuid() == 0) {
			if (setgroups(1, &gid) < 0)
				die_sys(EXIT_TEMP, "setgroups", NULL);
			changed = uid != 0;   /* to root: prog may read anything anyway */
		} else if (uid != geteuid() || gid != getegid()) {
			die_x(EXIT_TEMP, "change", "uid/gid", "not running as root");
		}
		if (setresgid(gid, gid, gid) < 0)
			die_sys(EXIT_TEMP, "setresgid", NULL);
		if (setresuid(uid, uid, uid) < 0)
			die_sys(EXIT_TEMP, "setresuid", NULL);
		if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
		    ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
			die_x(EXIT_TEMP, "drop", "privileges", "ids did not change");
	}
	/* Same uid as prog now: keep prog from ptrace-ing the key out of us. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_sys(EXIT_TEMP, "prctl", "PR_SET_DUMPABLE");
	return changed;
}
