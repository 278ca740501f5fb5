/* Session and transaction state: greeting, EHLO/HELO, STARTTLS, MAIL and
 * RCPT with the relay policy of the two roles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "queue.h"
#include "scan.h"
#include "ucspitls.h"
#include "smtp.h"

enum { RCPT_OVERSHOOT = 1000 };
_Static_assert((long)SMTP_DSN_MAX < (long)QUEUE_DSN_MAX, "PIPEMAIL_DSN past what queue-add takes");

/* No session to hold (me unreadable, DATABYTES bad): "421 <host> Service
 * not available" (RFC 5321 3.1, 4.2.3), so that the client tries again
 * later rather than take the close for a broken connection; then the
 * caller exits 111 with the cause on stderr. me NULL (not known): the
 * system's name stands in for it. */
static void
unavailable(struct session *s, const char *me)
{
	char host[256];
	const char *name = host;
	if (me) {
		name = me;
	} else {
		if (gethostname(host, sizeof host) < 0)
			host[0] = 0;
		host[sizeof host - 1] = 0;
		if (!conf_valid_domain(host, strlen(host)))
			name = "localhost";   /* only a host name goes into the reply */
	}
	reply_deadline(s);
	if (buf_puts(&s->out, "421 4.3.0 ") == 0 && buf_puts(&s->out, name) == 0 &&
	    buf_puts(&s->out, " Service not available, closing connection\r\n") == 0)
		(void)buf_flush(&s->out);
}

void
session_init(struct session *s)
{
	const char *e;
	buf_init(&s->in, 0, s->inspace, sizeof s->inspace);
	buf_init(&s->out, 1, s->outspace, sizeof s->outspace);
	buf_timeout(&s->in, s->o.cmd_timeout * 1000);
	buf_timeout(&s->out, s->o.cmd_timeout * 1000);
	if (s->o.session_limit)
		s->session_end = buf_now_ms() + s->o.session_limit * 1000LL;
	s->remoteip = getenv("TCPREMOTEIP");
	s->remotehost = getenv("TCPREMOTEHOST");
	s->relayclient = getenv("RELAYCLIENT") != NULL;
	s->tls = ucspitls_implicit();
	s->tls_possible = !s->tls && ucspitls_available();
	s->tls_required = !s->tls && ucspitls_required();
	tls_facts(s);
	e = getenv("SMTPROLE");
	if (e && strcmp(e, "submission") == 0)
		s->o.role = ROLE_SUBMISSION;
	else if (e && strcmp(e, "mx") == 0)
		s->o.role = ROLE_MX;
	if (s->o.hostname) {
		if (str_copys(&s->me, s->o.hostname) < 0)
			die_nomem(EXIT_TEMP);
	} else if (conf_me(&s->me) < 0) {
		int saved = errno;
		unavailable(s, NULL);
		errno = saved;
		die_sys(EXIT_TEMP, "read", "control file me");
	}
	if (str_0(&s->me) < 0)
		die_nomem(EXIT_TEMP);
	/* qmail-smtpd's per-connection override, e.g. from tcprules */
	e = getenv("DATABYTES");
	if (e && (scan_ulongz(e, ~0ULL >> 2, &s->o.maxsize) < 0 || s->o.maxsize == 0)) {
		unavailable(s, s->me.s);
		die_x(EXIT_TEMP, "parse", "DATABYTES", "not a positive number");
	}
}

/* Protocol and cipher for the log and Received:. After STARTTLS they come
 * over the control fd once the handshake is done, so ask until known. */
void
tls_facts(struct session *s)
{
	if (!s->tls || s->tlsproto.len)
		return;
	if (ucspitls_info(&s->tlsproto, &s->tlscipher) != 1 || str_0(&s->tlsproto) < 0 || str_0(&s->tlscipher) < 0)
		s->tlsproto.len = s->tlscipher.len = 0;
}

void
txn_reset(struct session *s)
{
	if (s->bdat)
		qprog_abort(&s->q);
	s->bdat = 0;
	s->mail = 0;
	s->nrcpt = 0;
	s->rcpt_over = 0;
	s->env.len = 0;
	s->dsn.len = 0;
	s->firstrcpt.len = 0;
	s->sender.addr.len = 0;
}

/* HELO/EHLO argument: one word of printable ASCII (or UTF-8); it only
 * ever reaches a header or a log escaped, but control bytes are refused. */
static int
helo_ok(const char *a)
{
	const unsigned char *p = (const unsigned char *)a;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

void
smtp_ehlo(struct session *s, const char *arg, int ehlo)
{
	char tmp[64];
	int n;
	if (!helo_ok(arg)) {
		reply_err(s, ehlo ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	txn_reset(s);
	tls_facts(s);
	if (str_copys(&s->helo, arg) < 0 || str_0(&s->helo) < 0)
		session_nomem(s);
	s->greeted = 1;
	s->ehlo = ehlo;
	if (!ehlo) {
		if (buf_puts(&s->out, "250 ") < 0 || buf_puts(&s->out, s->me.s) < 0)
			session_exit(s, "write");
		reply(s, "");
		return;
	}
	if (buf_puts(&s->out, "250-") < 0 || buf_puts(&s->out, s->me.s) < 0)
		session_exit(s, "write");
	reply(s, "");
	reply(s, "250-PIPELINING");
	n = snprintf(tmp, sizeof tmp, "250-SIZE %llu", s->o.maxsize);
	if (n < 0 || (size_t)n >= sizeof tmp)
		session_exit(s, "snprintf");
	reply(s, tmp);
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-CHUNKING");
	if (s->tls_possible)
		reply(s, "250-STARTTLS");
	if (auth_offered(s))
		reply(s, "250-AUTH PLAIN LOGIN");
	reply(s, "250 DSN");
}

void
smtp_starttls(struct session *s, const char *arg)
{
	int rfd, wfd;
	if (*arg) {
		reply_err(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->tls) {
		reply_err(s, "503 5.5.1 TLS already active");
		return;
	}
	if (!s->tls_possible) {
		reply_err(s, "502 5.5.1 STARTTLS not available");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	reply_flush(s);
	/* whatever the client pipelined after STARTTLS came in cleartext: drop it */
	buf_discard(&s->in);
	if (ucspitls_start(&rfd, &wfd) < 0) {
		warn_sys("start", "TLS");
		session_exit(s, "tls-failed");
	}
	buf_init(&s->in, rfd, s->inspace, sizeof s->inspace);
	buf_init(&s->out, wfd, s->outspace, sizeof s->outspace);
	buf_timeout(&s->in, s->o.cmd_timeout * 1000);
	buf_timeout(&s->out, s->o.cmd_timeout * 1000);
	s->tls = 1;
	s->tls_possible = 0;
	s->tls_required = 0;
	/* RFC 3207 4.2: forget everything learnt before the handshake */
	txn_reset(s);
	s->greeted = 0;
	s->ehlo = 0;
	s->helo.len = 0;
	s->authuser.len = 0;
}

/* Is the alias target x[0..len) the user u (user@domain) or u+detail?
 * The first '+' starts the detail, as for RCPT. */
static int
is_user(const char *x, size_t len, const char *u)
{
	size_t ulen = strlen(u), at;
	const char *uat = strchr(u, '@'), *xat = memchr(x, '@', len);
	if (len == ulen && strncasecmp(x, u, len) == 0)
		return 1;
	if (!uat || !xat)
		return 0;
	at = (size_t)(uat - u);
	return memchr(x, '+', (size_t)(xat - x)) == x + at && strncasecmp(x, u, at) == 0 &&
	    len - (size_t)(xat - x) == ulen - at && strncasecmp(xat, uat, ulen - at) == 0;
}

/* Does the authenticated user own this sender address? Where mail to it
 * goes decides, as RCPT finds it (the address, else its form without a
 * +detail): the user, or an alias whose targets include the user or
 * user+detail. */
static int
sender_owned(struct session *s, const struct smtpaddr *a)
{
	const char *u = s->authuser.s;
	struct str canon = STR_INIT, targets = STR_INIT;
	int r, owned = 0;
	if (a->addr.len == 0)
		return 0;
	if (strcasecmp(a->addr.s, u) == 0)
		return 1;
	r = conf_rcpt_local(a->addr.s, &canon);
	/* a catch-all ("@domain") owns nobody's every address */
	if (r == 1 && canon.s[0] != '@') {
		if (strcasecmp(canon.s, u) == 0)
			owned = 1;
		else
			r = conf_alias_get(canon.s, &targets);
	}
	if (r == 1 && !owned) {
		size_t i = 0;
		while (i < targets.len && !owned) {
			size_t j = i, k;
			while (j < targets.len && targets.s[j] != ',')
				j++;
			k = j;
			while (i < k && (targets.s[i] == ' ' || targets.s[i] == '\t'))
				i++;
			while (k > i && (targets.s[k - 1] == ' ' || targets.s[k - 1] == '\t'))
				k--;
			owned = is_user(targets.s + i, k - i, u);
			i = j + 1;
		}
	}
	str_free(&canon);
	str_free(&targets);
	return r < 0 ? -1 : owned;
}

static const char *
path_error(int r, int sender)
{
	switch (r) {
	case SMTPADDR_TOOLONG:
		return sender ? "553 5.1.7 Sender address too long" : "553 5.1.3 Recipient address too long";
	case SMTPADDR_8BIT:
		return "553 5.6.7 Non-ASCII address without SMTPUTF8";
	case SMTPADDR_NOMEM:
		return "451 4.3.0 Out of memory";
	default:
		return sender ? "501 5.1.7 Bad sender address syntax" : "501 5.1.3 Bad recipient address syntax";
	}
}

static const char *
param_error(int r)
{
	switch (r) {
	case SMTPADDR_PARAM_UNKNOWN:
		return "555 5.5.4 Unsupported parameter";
	case SMTPADDR_NOMEM:
		return "451 4.3.0 Out of memory";
	default:
		return "501 5.5.4 Bad parameter syntax";
	}
}

/* "FROM:" / "TO:" then optional spaces (a common leniency) */
static size_t
skip_prefix(const char *arg, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	if (len < n || strncasecmp(arg, prefix, n) != 0)
		return 0;
	while (n < len && arg[n] == ' ')
		n++;
	return n;
}

void
smtp_mail(struct session *s, const char *arg, size_t len)
{
	size_t off, used;
	int r;
	if (!s->greeted) {
		reply_err(s, "503 5.5.1 Send EHLO first");
		return;
	}
	if (s->mail) {
		reply_err(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (s->tls_required) {
		reply_err(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (s->o.role == ROLE_SUBMISSION && !s->authuser.len) {
		reply_err(s, "530 5.7.0 Authentication required");
		return;
	}
	off = skip_prefix(arg, len, "FROM:");
	if (!off) {
		reply_err(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	r = smtpaddr_path(arg + off, len - off, SMTPADDR_NULLOK | SMTPADDR_UTF8, &s->sender, &used);
	if (r != SMTPADDR_OK) {
		reply_err(s, path_error(r, 1));
		return;
	}
	r = smtpaddr_mail_params(arg + off + used, len - off - used, &s->mp);
	if (r != SMTPADDR_OK) {
		reply_err(s, param_error(r));
		return;
	}
	if (s->sender.utf8 && !s->mp.smtputf8) {
		reply_err(s, path_error(SMTPADDR_8BIT, 1));
		return;
	}
	if (s->mp.has_size && s->mp.size > s->o.maxsize) {
		reply_err(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	if (s->o.role == ROLE_SUBMISSION && !s->o.anysender) {
		r = sender_owned(s, &s->sender);
		if (r < 0) {
			reply_err(s, "451 4.3.0 Temporary lookup failure");
			return;
		}
		if (!r) {
			reply_err(s, "553 5.7.1 Sender address not owned by the authenticated user");
			return;
		}
	}
	s->env.len = 0;
	if (str_catc(&s->env, 'F') < 0 || str_catb(&s->env, s->sender.addr.s, s->sender.addr.len + 1) < 0)
		session_nomem(s);
	s->dsn.len = 0;
	if (s->mp.ret && str_cats(&s->dsn, s->mp.ret == SMTP_RET_FULL ? "RET=FULL" : "RET=HDRS") < 0)
		session_nomem(s);
	if (s->mp.envid.len && ((s->mp.ret && str_catc(&s->dsn, ' ') < 0) || str_cats(&s->dsn, "ENVID=") < 0 ||
	    str_catb(&s->dsn, s->mp.envid.s, s->mp.envid.len) < 0))
		session_nomem(s);
	if (str_catc(&s->dsn, '\n') < 0)
		session_nomem(s);
	s->mail = 1;
	s->nrcpt = 0;
	s->rcpt_over = 0;
	reply(s, "250 2.1.0 Ok");
}

/* RFC 5321 4.5.3.1.10: the client sends these again in another
 * transaction, so they are no error; only a flood past RCPT_OVERSHOOT
 * (Postfix's default) counts toward -e */
static void
too_many(struct session *s)
{
	if (++s->rcpt_over > RCPT_OVERSHOOT)
		reply_err(s, "452 4.5.3 Too many recipients");
	else
		reply(s, "452 4.5.3 Too many recipients");
}

static int
dsn_rcpt_line(struct str *d, const struct smtp_rcptparams *rp)
{
	if (rp->notify && smtpaddr_notify_fmt(d, rp->notify) < 0)
		return -1;
	if (rp->orcpt.len && ((rp->notify && str_catc(d, ' ') < 0) || str_cats(d, "ORCPT=") < 0 ||
	    str_catb(d, rp->orcpt.s, rp->orcpt.len) < 0))
		return -1;
	return str_catc(d, '\n');
}

void
smtp_rcpt(struct session *s, const char *arg, size_t len)
{
	size_t off, used, dsnlen;
	const char *domain;
	int r;
	if (!s->mail) {
		reply_err(s, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (s->bdat) {
		reply_err(s, "503 5.5.1 RCPT during BDAT");
		return;
	}
	if (s->nrcpt >= s->o.maxrcpt) {
		too_many(s);
		return;
	}
	off = skip_prefix(arg, len, "TO:");
	if (!off) {
		reply_err(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	r = smtpaddr_path(arg + off, len - off, SMTPADDR_NODOMAIN | SMTPADDR_UTF8, &s->addr, &used);
	if (r != SMTPADDR_OK) {
		reply_err(s, path_error(r, 0));
		return;
	}
	r = smtpaddr_rcpt_params(arg + off + used, len - off - used, s->mp.smtputf8, &s->rp);
	if (r != SMTPADDR_OK) {
		reply_err(s, param_error(r));
		return;
	}
	if (s->addr.utf8 && !s->mp.smtputf8) {
		reply_err(s, path_error(SMTPADDR_8BIT, 0));
		return;
	}
	if (s->addr.at == s->addr.addr.len) {   /* <postmaster>: this host's */
		if (str_catc(&s->addr.addr, '@') < 0 || str_cats(&s->addr.addr, s->me.s) < 0 || str_0(&s->addr.addr) < 0)
			session_nomem(s);
	}
	domain = s->addr.addr.s + s->addr.at + 1;
	r = domain[0] == '[' ? 0 : conf_domain_local(domain);
	if (r < 0) {
		reply_err(s, "451 4.3.0 Temporary lookup failure");
		return;
	}
	if (r == 1) {
		if (smtpaddr_local_routing(&s->addr)) {
			s->rejected++;
			reply_err(s, "550 5.1.3 Routing characters in a local address refused");
			return;
		}
		r = conf_rcpt_local(s->addr.addr.s, NULL);
		/* a relay client may send anywhere, and sendmail -bs run by a
		 * user may not read the users: queue-run checks, as it does for
		 * sendmail's command line */
		if (r < 0 && errno == EACCES && s->relayclient)
			r = 1;
		if (r < 0) {
			reply_err(s, "451 4.3.0 Temporary lookup failure");
			return;
		}
		if (r == 0) {
			s->rejected++;
			reply_err(s, "550 5.1.1 No such user here");
			return;
		}
	} else if (!s->relayclient && !s->authuser.len) {
		s->rejected++;
		reply_err(s, "554 5.7.1 Relaying denied");
		return;
	}
	dsnlen = s->dsn.len;
	if (dsn_rcpt_line(&s->dsn, &s->rp) < 0)
		session_nomem(s);
	if (s->dsn.len > SMTP_DSN_MAX) {
		/* past it the queue could never take the message: 451 for ever */
		str_trunc(&s->dsn, dsnlen);
		too_many(s);
		return;
	}
	if (str_catc(&s->env, 'T') < 0 || str_catb(&s->env, s->addr.addr.s, s->addr.addr.len + 1) < 0)
		session_nomem(s);
	if (s->nrcpt++ == 0 && str_copyb(&s->firstrcpt, s->addr.addr.s, s->addr.addr.len + 1) < 0)
		session_nomem(s);
	reply(s, "250 2.1.5 Ok");
}
