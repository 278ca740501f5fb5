/* The shared login path: users cdb lookup, crypt(3) verification with
 * the same cost for unknown users, a growing delay after failures, and
 * the privilege drop before any mailbox is touched. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "login.h"
#include "passwd.h"
#include "scan.h"
#include "str.h"

/* A yescrypt hash at libcrypt's default cost (what passwd_hash writes),
 * verified for unknown users when the database offers no hash of its own
 * (conf_user_decoy) to take the scheme and cost from. */
static const char dummy_hash[] =
	"$y$j9T$rhGk3su8AltBbRBj9s5e70$oG/XXC4KAz1suZeCYUO.t3Xt3XRd/Mhl2n6Oz/gh853";

/* An unknown or locked user's password goes through crypt(3) too, against
 * a stored hash: a users file of SHA-512-crypt hashes would otherwise
 * answer known users faster (or slower) than unknown ones. The result is
 * thrown away. */
static void
decoy_verify(const char *password)
{
	struct str h = STR_INIT;
	/* passwd_locked: a DES-family hash is refused at once, at no cost */
	if (conf_user_decoy(&h, passwd_locked) > 0)
		(void)passwd_verify(password, h.s);
	else
		(void)passwd_verify(password, dummy_hash);
	if (h.s)
		explicit_bzero(h.s, h.cap);
	str_free(&h);
}

int
login_check(const char *user, const char *password, struct conf_user *u)
{
	struct str addr = STR_INIT;
	size_t ulen = strlen(user), plen = strlen(password);
	int found, v, r;
	memset(u, 0, sizeof *u);
	if (ulen == 0 || ulen > CONF_ADDR_MAX || memchr(user, '\n', ulen) || memchr(user, '\r', ulen))
		found = 0;
	else if (str_copyb(&addr, user, ulen) < 0)
		return LOGIN_TEMP;
	else {
		str_lower(&addr);
		found = conf_user_get(addr.s, u);
	}
	str_free(&addr);
	if (found < 0)
		return LOGIN_TEMP;
	if (plen == 0 || plen > PASSWD_MAX) {
		(void)passwd_verify("x", dummy_hash);
		v = 0;
	} else if (found && !passwd_locked(u->hash.s ? u->hash.s : "")) {
		v = passwd_verify(password, u->hash.s);
	} else {
		/* unknown, or locked (which passwd_verify refuses at once): the
		 * same work as a known user's, so that the time of a refusal
		 * does not tell which addresses exist */
		decoy_verify(password);
		v = 0;
	}
	if (v == 1 && found)
		return LOGIN_OK;
	r = v < 0 ? LOGIN_TEMP : LOGIN_BAD;
	if (found)
		conf_user_free(u);
	memset(u, 0, sizeof *u);
	return r;
}

enum { LOGIN_DELAY_DEFAULT_MS = 1000, LOGIN_DELAY_CAP_MS = 8000 };

/* base delay, overridable by the admin (and tests) with
 * PIPEMAIL_LOGIN_DELAY_MS; the cap scales with it */
static unsigned long
delay_base(void)
{
	const char *e = getenv("PIPEMAIL_LOGIN_DELAY_MS");
	unsigned long long v;
	if (e && scan_ulongz(e, 60000, &v) == 0)
		return (unsigned long)v;
	return LOGIN_DELAY_DEFAULT_MS;
}

void
login_fail_delay(unsigned int n)
{
	unsigned long base = delay_base(), cap, ms;
	struct timespec ts;
	if (n == 0 || base == 0)
		return;
	cap = base * (LOGIN_DELAY_CAP_MS / LOGIN_DELAY_DEFAULT_MS);
	ms = base;
	while (--n && ms < cap)   /* doubles per failure */
		ms *= 2;
	if (ms > cap)
		ms = cap;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

int
login_drop(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (uid == 0 || gid == 0) {
		/* a mailbox never runs as root */
		errno = EPERM;
		return -1;
	}
	conf_close();   /* the password hashes stay with root */
	if (geteuid() == 0) {
		if (setgroups(1, &gid) < 0)
			return -1;
		if (setresgid(gid, gid, gid) < 0)
			return -1;
		if (setresuid(uid, uid, uid) < 0)
			return -1;
		/* root must be gone for good */
		if (setuid(0) == 0 || seteuid(0) == 0) {
			errno = EPERM;
			return -1;
		}
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
