/* Privilege drop, private to deliver-maildir until lib/login.h's
 * login_drop lands: the same contract (setgroups, setresgid, setresuid,
 * each checked, then verified, root not regainable). */
#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include "deliver.h"

int
priv_become(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (geteuid() != 0) {
		if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
			return -1;
		if (ru == uid && eu == uid && su == uid && rg == gid && eg == gid && sg == gid)
			return 0;
		errno = EPERM;
		return -1;
	}
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
		errno = EPERM;
		return -1;
	}
	if (uid != 0 && setresuid(0, 0, 0) == 0) {   /* must be impossible now */
		errno = EPERM;
		return -1;
	}
	return 0;
}
