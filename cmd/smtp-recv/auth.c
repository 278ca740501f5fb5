/* AUTH PLAIN and LOGIN (RFC 4954) over lib/sasl and lib/login. Passwords
 * are wiped after use and never logged; each failure is delayed and too
 * many end the session. */
#include <string.h>
#include <strings.h>
#include "conf.h"
#include "log.h"
#include "login.h"
#include "sasl.h"
#include "smtp.h"

int
auth_offered(const struct session *s)
{
	return !s->authuser.len && (s->tls || (s->o.plainauth && !s->tls_required));
}

static void
wipe(struct str *x)
{
	if (x->s)
		explicit_bzero(x->s, x->cap);
	x->len = 0;
}

/* One client response line; NULL when the client cancelled ("*"). */
static const char *
response(struct session *s, size_t *len)
{
	if (!cmd_getline(s, SMTP_AUTH_LINE_MAX))
		return NULL;
	if (strcmp(s->line.s, "*") == 0) {
		reply_err(s, "501 5.0.0 Authentication cancelled");
		return NULL;
	}
	*len = s->line.len;
	return s->line.s;
}

static void auth_fail(struct session *);

/* One line per failed login, as pop-serve writes, so that a log watcher
 * (fail2ban and the like) can act on the address at once; the session
 * line comes only at the end. Never the password. */
static void
log_login_failed(const struct session *s, const struct str *user, const char *result)
{
	struct logline l;
	log_begin(&l, "login");
	log_kv(&l, "ip", s->remoteip);
	if (user && user->len)
		log_kvb(&l, "user", user->s, user->len);
	log_kv(&l, "result", result);
	log_end(&l);
}

static void
check(struct session *s, struct str *user, struct str *pass)
{
	struct conf_user u = { STR_INIT, STR_INIT, 0, 0, STR_INIT, 0 };
	int r;
	if (str_0(user) < 0 || str_0(pass) < 0)
		session_nomem(s);
	r = login_check(user->s, pass->s, &u);
	wipe(pass);
	if (r == LOGIN_OK) {
		if (str_copyb(&s->authuser, u.addr.s, u.addr.len) < 0 || str_0(&s->authuser) < 0)
			session_nomem(s);
		conf_user_free(&u);
		reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	conf_user_free(&u);
	log_login_failed(s, user, r == LOGIN_TEMP ? "temp" : "bad");
	if (r == LOGIN_TEMP) {
		reply_err(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	auth_fail(s);
}

static void
auth_fail(struct session *s)
{
	s->authfails++;
	login_fail_delay(s->authfails);
	if (s->authfails >= s->o.maxauthfail)
		session_close(s, "4.7.0", "Too many authentication failures, closing connection", "authfail");
	reply_err(s, "535 5.7.8 Authentication credentials invalid");
}

void
smtp_auth(struct session *s, const char *arg)
{
	struct str mech = STR_INIT, user = STR_INIT, pass = STR_INIT, init = STR_INIT;
	size_t mlen = strcspn(arg, " "), len;
	const char *r;
	int have_init = arg[mlen] == ' ';
	if (!s->ehlo) {
		reply_err(s, "503 5.5.1 Send EHLO first");
		return;
	}
	if (s->authuser.len) {
		reply_err(s, "503 5.5.1 Already authenticated");
		return;
	}
	if (s->mail) {
		reply_err(s, "503 5.5.1 AUTH not allowed during a mail transaction");
		return;
	}
	if (!s->tls && (s->tls_required || !s->o.plainauth)) {
		reply_err(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	if (str_copyb(&mech, arg, mlen) < 0 || str_0(&mech) < 0 ||
	    (have_init && str_copys(&init, arg + mlen + 1) < 0))
		session_nomem(s);
	if (strcasecmp(mech.s, "PLAIN") == 0) {
		if (have_init) {
			r = init.s;
			len = init.len;
			if (len == 1 && r[0] == '=')
				len = 0;
		} else {
			reply(s, "334 ");
			r = response(s, &len);
		}
		if (r) {
			int d = sasl_plain_decode(r, len, &user, &pass);
			explicit_bzero(s->line.s, s->line.len);
			if (d == 0)
				check(s, &user, &pass);
			else if (d == -2) {
				/* acting for someone else: refused like a wrong password */
				log_login_failed(s, &user, "authzid-refused");
				auth_fail(s);
			}
			else
				reply_err(s, "501 5.5.2 Malformed authentication response");
		}
	} else if (strcasecmp(mech.s, "LOGIN") == 0) {
		if (have_init) {
			r = init.s;
			len = init.len;
		} else {
			reply(s, "334 VXNlcm5hbWU6");   /* "Username:" */
			r = response(s, &len);
		}
		if (r && sasl_login_field(r, len, &user) < 0) {
			reply_err(s, "501 5.5.2 Malformed authentication response");
			r = NULL;
		}
		if (r) {
			reply(s, "334 UGFzc3dvcmQ6");   /* "Password:" */
			r = response(s, &len);
			if (r && sasl_login_field(r, len, &pass) < 0) {
				reply_err(s, "501 5.5.2 Malformed authentication response");
				r = NULL;
			}
			explicit_bzero(s->line.s, s->line.len);
			if (r)
				check(s, &user, &pass);
		}
	} else {
		reply_err(s, "504 5.5.4 Unrecognized authentication mechanism");
	}
	wipe(&pass);
	wipe(&init);
	str_free(&mech);
	str_free(&user);
	str_free(&pass);
	str_free(&init);
}
