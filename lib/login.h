/* The shared login path for every server (smtp-recv AUTH, pop-serve,
 * imap-serve): users cdb lookup, crypt(3) verification, a delay after a
 * failure, and the privilege drop before a mailbox is opened. */
#ifndef LOGIN_H
#define LOGIN_H

#include "conf.h"

enum {
	LOGIN_OK = 0,
	LOGIN_BAD = 1,    /* unknown user or wrong password: the same answer for both */
	LOGIN_TEMP = 2    /* database unreadable etc.: try again later */
};

/* Verify user (an address, compared in lower case) and password. On
 * LOGIN_OK, u is filled (caller frees with conf_user_free). Unknown users
 * cost as much time as known ones. Never logs the password. */
int login_check(const char *user, const char *password, struct conf_user *u);

/* Sleep after a failed attempt n (1, 2, ...): grows, capped. The first
 * delay is 1 s, doubling up to 8 s; the environment variable
 * PIPEMAIL_LOGIN_DELAY_MS (0..60000) sets the first delay instead (the
 * cap stays 8x it; 0 = no delay, for tests). */
void login_fail_delay(unsigned int n);

/* Become u's uid/gid: setgroups, setresgid, setresuid, each checked, and
 * verified afterwards (and regaining root must fail). When not root,
 * succeeds only if already that user. uid or gid 0 is refused (EPERM).
 * 0 ok, -1 errno. */
int login_drop(uid_t uid, gid_t gid);

#endif
