/* smtp-send: deliver one message (stdin) for one domain's recipients by
 * SMTP, to the domain's route or MX hosts; one result line per recipient
 * on stdout. Called by queue-run; usable from scripts. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "die.h"
#include "dns.h"
#include "exitcode.h"
#include "log.h"
#include "routes.h"
#include "scan.h"
#include "smtp-send.h"

#define USAGE "smtp-send [-B] [-f SENDER] [-h HELO] [-p PORT] [-r ROUTES | -R] [-T no|try|must|verify] " \
	"[-C CAFILE] [-4 | -6] [-w SECONDS] DOMAIN RCPT..."

enum { ADDR_MAX = 320, RCPT_MAX = 10000, DSN_LINE_MAX = 1024, ATTEMPTS_MAX = 32, READ_BUF_SIZE = 65536,
	BATCH_LINE_MAX = 65536 };

void
job_settle(struct job *j, int status, const char *enh, const char *text, const char *host)
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++) {
		struct rcpt *rc = &j->rcpt[i];
		if (rc->status != ST_PENDING)
			continue;
		rc->status = status;
		snprintf(rc->enh, sizeof rc->enh, "%s", enh);
		if (str_copys(&rc->text, text) < 0 || str_0(&rc->text) < 0)
			rc->text.len = 0;
		snprintf(rc->host, sizeof rc->host, "%s", host ? host : "");
	}
}

/* An envelope address we are willing to put on the wire: no controls, no
 * angle brackets, no spaces outside what SMTP allows (I8). 1 ok. */
static int
addr_ok(const char *a, int *utf8)
{
	size_t i, n = strlen(a);
	if (n > ADDR_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>')
			return 0;
		if (c >= 0x80)
			*utf8 = 1;
	}
	return 1;
}

/* A DSN parameter list "KEY=value KEY=value" with only the given keys and
 * xtext-safe values; appended to out with a leading space each. */
static int
dsn_params(const char *line, size_t len, const char *const *keys, struct str *out)
{
	size_t i = 0;
	out->len = 0;
	while (i < len) {
		size_t j, k, ok = 0;
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		for (j = i; j < len && line[j] != ' '; j++) {
			unsigned char c = (unsigned char)line[j];
			if (c < 0x21 || c > 0x7e)
				return -1;
		}
		for (k = 0; keys[k]; k++) {
			size_t kl = strlen(keys[k]);
			if (j - i > kl + 1 && strncasecmp(line + i, keys[k], kl) == 0 && line[i + kl] == '=')
				ok = 1;
		}
		if (!ok)
			return -1;
		if (str_catc(out, ' ') < 0 || str_catb(out, line + i, j - i) < 0)
			return -1;
		i = j;
	}
	return str_0(out);
}

static void
read_dsn(struct job *j)
{
	static const char *const mailkeys[] = { "RET", "ENVID", NULL };
	static const char *const rcptkeys[] = { "NOTIFY", "ORCPT", NULL };
	const char *p = getenv("PIPEMAIL_DSN");
	size_t n = 0;
	if (!p)
		return;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct str *out = n == 0 ? &j->dsnmail : n - 1 < j->nrcpt ? &j->rcpt[n - 1].dsn : NULL;
		if (!out)
			break;
		if (len > DSN_LINE_MAX || dsn_params(p, len, n == 0 ? mailkeys : rcptkeys, out) < 0) {
			warn_x("use", "PIPEMAIL_DSN", "malformed line ignored");
			out->len = 0;
		}
		n++;
		p += len + (nl != NULL);
	}
}

/* The message must be readable more than once (another MX after a
 * failure): a regular file is used in place, anything else is spooled
 * to an unlinked temporary file. Constant memory either way. */
static void
message_open(struct job *j)
{
	struct stat st;
	char *buf = malloc(READ_BUF_SIZE);
	const char *tmpdir = getenv("TMPDIR");
	int fd = 0, spool;
	unsigned long long size = 0;
	if (!buf)
		die_nomem(EXIT_TEMP);
	if (fstat(0, &st) < 0)
		die_sys(EXIT_TEMP, "stat", "stdin");
	spool = !S_ISREG(st.st_mode);
	j->msgoff = 0;
	if (spool) {
		struct str path = STR_INIT;
		if (str_copys(&path, tmpdir && *tmpdir ? tmpdir : "/tmp") < 0 ||
		    str_cats(&path, "/smtp-send.XXXXXX") < 0 || str_0(&path) < 0)
			die_nomem(EXIT_TEMP);
		fd = mkstemp(path.s);
		if (fd < 0)
			die_sys(EXIT_TEMP, "create", path.s);
		unlink(path.s);
		str_free(&path);
	} else {
		j->msgoff = lseek(0, 0, SEEK_CUR);
		if (j->msgoff < 0)
			die_sys(EXIT_TEMP, "seek", "stdin");
	}
	for (;;) {
		ssize_t r = read(0, buf, READ_BUF_SIZE), i;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_sys(EXIT_TEMP, "read", "the message");
		if (r == 0)
			break;
		for (i = 0; i < r && !j->eightbit; i++)
			if ((unsigned char)buf[i] >= 0x80)
				j->eightbit = 1;
		size += (unsigned long long)r;
		if (spool && buf_writeall(fd, buf, (size_t)r, 0, 0) < 0)
			die_sys(EXIT_TEMP, "write", "the spool file");
	}
	free(buf);
	j->msgfd = fd;
	j->size = size;
}

/* Batch mode: the message is LENGTH bytes of FILE at OFFSET (or the file
 * from OFFSET to its end). 0 ok, -1 unreadable or out of range. */
static int
message_file(struct job *j, const char *path, unsigned long long off, unsigned long long len, int haslen)
{
	struct stat st;
	char *buf;
	unsigned long long left;
	j->msgfd = open(path, O_RDONLY | O_CLOEXEC);
	j->eightbit = 0;
	if (j->msgfd < 0)
		return -1;
	if (fstat(j->msgfd, &st) < 0 || !S_ISREG(st.st_mode) || off > (unsigned long long)st.st_size ||
	    (haslen && len > (unsigned long long)st.st_size - off))
		return -1;
	j->msgoff = (off_t)off;
	j->size = haslen ? len : (unsigned long long)st.st_size - off;
	buf = malloc(READ_BUF_SIZE);
	if (!buf)
		return -1;
	for (left = j->size; left && !j->eightbit;) {
		ssize_t r = pread(j->msgfd, buf, left < READ_BUF_SIZE ? (size_t)left : READ_BUF_SIZE, (off_t)off), i;
		if (r <= 0) {
			free(buf);
			return -1;
		}
		for (i = 0; i < r; i++)
			if ((unsigned char)buf[i] >= 0x80)
				j->eightbit = 1;
		off += (unsigned long long)r;
		left -= (unsigned long long)r;
	}
	free(buf);
	return 0;
}

static int
tlsmode_of(const char *s)
{
	if (strcmp(s, "no") == 0)
		return TLS_MODE_NO;
	if (strcmp(s, "try") == 0)
		return TLS_MODE_TRY;
	if (strcmp(s, "must") == 0)
		return TLS_MODE_MUST;
	if (strcmp(s, "verify") == 0)
		return TLS_MODE_VERIFY;
	die_usage(USAGE);
}

/* TLS configurations are made on first use: starting libtls (and the
 * crypto library under it) costs more than a whole plaintext delivery. */
struct tls_config *
job_tlsconfig(struct job *j, int verify, struct str *err)
{
	struct tls_config **c = verify ? &j->tlsverify : &j->tlscfg;
	if (*c)
		return *c;
	*c = tls_config_new();
	if (!*c) {
		str_copys(err, "unable to set up TLS");
		return NULL;
	}
	if (!verify) {
		/* opportunistic TLS beats plaintext even with an unverifiable peer */
		tls_config_insecure_noverifycert(*c);
		tls_config_insecure_noverifyname(*c);
	} else if (j->cafile && tls_config_set_ca_file(*c, j->cafile) < 0) {
		str_copys(err, "unable to load the CA file: ");
		str_cats(err, tls_config_error(*c));
		tls_config_free(*c);
		*c = NULL;
		return NULL;
	}
	return *c;
}

static void
helo_name(struct str *out)
{
	if (conf_me(out) < 0 || str_0(out) < 0)
		die_sys(EXIT_TEMP, "find", "this host's name");
}

static int
print_results(const struct job *j)
{
	struct str o = STR_INIT;
	size_t i, n[4] = { 0, 0, 0, 0 };
	static const char *const word[] = { "temp", "ok", "temp", "perm" };
	for (i = 0; i < j->nrcpt; i++) {
		const struct rcpt *rc = &j->rcpt[i];
		size_t k;
		n[rc->status & 3]++;
		if (str_cats(&o, word[rc->status & 3]) < 0 || str_catc(&o, ' ') < 0)
			die_nomem(EXIT_TEMP);
		k = o.len;
		if (str_cats(&o, rc->addr) < 0)
			die_nomem(EXIT_TEMP);
		for (; k < o.len; k++)
			if ((unsigned char)o.s[k] <= ' ' || o.s[k] == 0x7f)
				o.s[k] = '?';
		if (str_catc(&o, ' ') < 0 || str_cats(&o, rc->enh[0] ? rc->enh : "4.0.0") < 0 ||
		    str_catc(&o, ' ') < 0 || str_cats(&o, rc->host[0] ? rc->host : "-") < 0 ||
		    str_catc(&o, ' ') < 0)
			die_nomem(EXIT_TEMP);
		k = o.len;
		if (str_catb(&o, rc->text.s ? rc->text.s : "", rc->text.len) < 0)
			die_nomem(EXIT_TEMP);
		for (; k < o.len; k++)
			if ((unsigned char)o.s[k] < ' ' || o.s[k] == 0x7f)
				o.s[k] = ' ';
		if (str_catc(&o, '\n') < 0)
			die_nomem(EXIT_TEMP);
	}
	if (buf_writeall(1, o.s ? o.s : "", o.len, 0, 0) < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	str_free(&o);
	if (n[ST_OK] == j->nrcpt)
		return EXIT_OK;
	if (n[ST_PERM] == j->nrcpt)
		return EXIT_PERM;
	return EXIT_TEMP;
}

struct target {
	char host[DNS_NAME_MAX + 1];
	int system;   /* a route's host: the system resolver (/etc/hosts too) */
};

/* A route's host name goes through getaddrinfo, so /etc/hosts names work
 * as they do for every other program; MX targets stay DNS-only. */
static int
system_addrs(const char *host, int want, struct dns_addr *a, size_t max, size_t *n)
{
	struct addrinfo hints, *res, *p;
	int r;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = want == DNS_WANT_V4 ? AF_INET : want == DNS_WANT_V6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	*n = 0;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r == EAI_NONAME)
		return DNS_NXDOMAIN;
	if (r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return DNS_NODATA;
	if (r != 0)
		return DNS_TEMP;
	for (p = res; p && *n < max; p = p->ai_next) {
		if (p->ai_addrlen > sizeof a[*n].sa)
			continue;
		memset(&a[*n], 0, sizeof a[*n]);
		memcpy(&a[*n].sa, p->ai_addr, p->ai_addrlen);
		a[*n].len = p->ai_addrlen;
		(*n)++;
	}
	freeaddrinfo(res);
	return *n ? DNS_OK : DNS_NODATA;
}

/* Where one job goes: hosts in order, port, TLS policy, credentials. */
struct plan {
	struct target t[DNS_MX_MAX];
	size_t nt;
	unsigned port;
	int tlsmode;
	struct route route;
	struct str key;       /* the connection cache key */
};

struct opts {
	unsigned port;
	int want, tlsmode, noroutes;
	const char *routesfile;
};

/* One open connection kept between the jobs of a batch. */
struct cache {
	struct sess *s;
	struct str key;
};

enum { CACHE_AGE_MS = 300000 };

static int
add_session(struct cache *c, struct sess *s, const struct plan *p)
{
	if (!c || !session_reusable(s, CACHE_AGE_MS) || str_copyb(&c->key, p->key.s, p->key.len) < 0) {
		session_close(s);
		return 0;
	}
	c->s = s;
	return 1;
}

/* Try the hosts in order, each address of each host; a cached connection
 * for the same destination first. */
static void
deliver(struct job *j, const struct plan *p, int want, struct cache *cache)
{
	struct str lasterr = STR_INIT;
	char lastenh[SMTPREPLY_ENH_MAX] = "4.4.1";
	const char *lasthost = NULL;
	size_t h, attempts = 0;
	int dnstemp = 0;

	if (cache && cache->s) {
		if (cache->key.len == p->key.len && memcmp(cache->key.s, p->key.s, p->key.len) == 0 &&
		    session_reusable(cache->s, CACHE_AGE_MS)) {
			if (session_deliver(cache->s, j, 1) == 0) {
				if (!session_reusable(cache->s, CACHE_AGE_MS)) {
					session_close(cache->s);
					cache->s = NULL;
				}
				return;
			}
		}
		session_close(cache->s);   /* another destination, or gone stale */
		cache->s = NULL;
	}
	str_copys(&lasterr, "no host could be reached");
	str_0(&lasterr);
	for (h = 0; h < p->nt && attempts < ATTEMPTS_MAX; h++) {
		struct dns_addr a[DNS_ADDR_MAX];
		size_t na, i;
		int r = p->t[h].system ? system_addrs(p->t[h].host, want, a, DNS_ADDR_MAX, &na) :
		    dns_addrs(p->t[h].host, want, a, DNS_ADDR_MAX, &na);
		if (r != DNS_OK) {
			if (r == DNS_TEMP)
				dnstemp = 1;
			str_copys(&lasterr, r == DNS_TEMP ? "temporary DNS failure looking up " :
			    "no address for ");
			str_cats(&lasterr, p->t[h].host);
			str_0(&lasterr);
			memcpy(lastenh, "4.4.3", 6);
			continue;
		}
		for (i = 0; i < na && attempts < ATTEMPTS_MAX; i++) {
			struct sess *s;
			int mode = p->tlsmode, r2;
			if (a[i].sa.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&a[i].sa)->sin6_port = htons((unsigned short)p->port);
			else
				((struct sockaddr_in *)&a[i].sa)->sin_port = htons((unsigned short)p->port);
			do {
				attempts++;
				r2 = session_open(j, p->t[h].host, &a[i], mode, &lasterr, lastenh, &s);
				mode = TLS_MODE_NO;   /* the retry after a failed opportunistic handshake */
			} while (r2 == ATT_PLAIN && attempts < ATTEMPTS_MAX);
			lasthost = p->t[h].host;
			if (r2 == ATT_DONE) {
				session_deliver(s, j, 0);
				add_session(cache, s, p);
				goto out;
			}
		}
	}
	if (attempts == 0 && !dnstemp) {
		/* every mail host is known not to exist: RFC 5321 5.1 */
		job_settle(j, ST_PERM, "5.4.4", "no mail host of the domain has an address", p->t[0].host);
		goto out;
	}
	job_settle(j, ST_TEMP, lastenh, lasterr.s, lasthost);
out:
	str_free(&lasterr);
}

/* The route or the MX hosts for j's domain. 1: deliver by p; 0: every
 * recipient is settled already. Dies on a broken routes file. */
static int
plan_job(struct job *j, const struct opts *o, struct plan *p)
{
	unsigned long lineno;
	size_t i;
	int r = 0;

	p->nt = 0;
	p->port = o->port;
	p->tlsmode = o->tlsmode;
	p->key.len = 0;
	j->user = j->pass = NULL;
	if (!o->noroutes) {
		r = routes_lookup(o->routesfile, j->domain, &p->route, &lineno);
		if (r < 0 && errno == EINVAL) {
			char where[32];
			snprintf(where, sizeof where, "line %lu", lineno);
			die_x(EXIT_TEMP, "parse", o->routesfile, where);
		}
		if (r < 0)
			die_sys(EXIT_TEMP, "read", o->routesfile);
	}
	if (r == 1 && p->route.host.len) {
		if (p->route.host.len > DNS_NAME_MAX)
			die_x(EXIT_TEMP, "use", o->routesfile, "host name too long");
		memcpy(p->t[0].host, p->route.host.s, p->route.host.len + 1);
		p->t[0].system = 1;
		p->nt = 1;
		if (p->route.port)
			p->port = p->route.port;
		if (p->route.tls != ROUTE_TLS_DEFAULT)
			p->tlsmode = p->route.tls;
		if (p->route.user.len) {
			j->user = p->route.user.s;
			j->pass = p->route.pass.s;
		}
		/* routed mail shares connections by destination */
		if (str_copys(&p->key, "route ") < 0 || str_cats(&p->key, p->t[0].host) < 0)
			die_nomem(EXIT_TEMP);
	} else {
		struct dns_mx mx[DNS_MX_MAX];
		size_t n;
		switch (dns_mx(j->domain, mx, DNS_MX_MAX, &n)) {
		case DNS_OK:
			for (i = 0; i < n; i++) {
				memcpy(p->t[i].host, mx[i].host, sizeof p->t[i].host);
				p->t[i].system = 0;
			}
			p->nt = n;
			break;
		case DNS_NODATA:   /* RFC 5321 5.1: the implicit MX */
			if (strlen(j->domain) > DNS_NAME_MAX) {
				job_settle(j, ST_PERM, "5.1.2", "domain name too long", "-");
				return 0;
			}
			memcpy(p->t[0].host, j->domain, strlen(j->domain) + 1);
			p->t[0].system = 0;
			p->nt = 1;
			break;
		case DNS_NULLMX:
			job_settle(j, ST_PERM, "5.1.10", "the domain accepts no mail (null MX, RFC 7505)", "-");
			return 0;
		case DNS_NXDOMAIN:
			job_settle(j, ST_PERM, "5.1.2", "the domain does not exist", "-");
			return 0;
		default:
			job_settle(j, ST_TEMP, "4.4.3", "temporary DNS failure looking up MX", "-");
			return 0;
		}
		if (str_copys(&p->key, "mx ") < 0 || str_cats(&p->key, j->domain) < 0)
			die_nomem(EXIT_TEMP);
	}
	if (str_catc(&p->key, ' ') < 0 || str_catu(&p->key, p->port) < 0 || str_catc(&p->key, ' ') < 0 ||
	    str_catu(&p->key, (unsigned)p->tlsmode) < 0 || str_catc(&p->key, ' ') < 0 ||
	    str_cats(&p->key, j->user ? j->user : "") < 0)
		die_nomem(EXIT_TEMP);
	return 1;
}

/* The envelope of one job; unusable recipients are settled at once. */
static void
job_envelope(struct job *j, char **rcpts, size_t n)
{
	size_t i;
	j->utf8 = 0;
	j->nrcpt = n;
	j->rcpt = calloc(n, sizeof *j->rcpt);
	if (!j->rcpt)
		die_nomem(EXIT_TEMP);
	if (!addr_ok(j->sender, &j->utf8))
		job_settle(j, ST_PERM, "5.1.7", "unusable sender address", "-");
	for (i = 0; i < n; i++) {
		int u = 0;
		struct rcpt *rc = &j->rcpt[i];
		rc->addr = rcpts[i];
		if (rc->status == ST_PENDING && (!addr_ok(rc->addr, &u) || !*rc->addr)) {
			rc->status = ST_PERM;
			memcpy(rc->enh, "5.1.3", 6);
			if (str_copys(&rc->text, "unusable recipient address") < 0 || str_0(&rc->text) < 0)
				die_nomem(EXIT_TEMP);
		}
		j->utf8 |= u;
	}
}

static void
job_free(struct job *j)
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++) {
		str_free(&j->rcpt[i].text);
		str_free(&j->rcpt[i].dsn);
	}
	free(j->rcpt);
	j->rcpt = NULL;
	j->nrcpt = 0;
	j->dsnmail.len = 0;
}

static void
run_job(struct job *j, const struct opts *o, struct plan *p, struct cache *c)
{
	size_t i;
	int pending = 0;
	for (i = 0; i < j->nrcpt; i++)
		pending |= j->rcpt[i].status == ST_PENDING;
	if (pending && plan_job(j, o, p))
		deliver(j, p, o->want, c);
}

/* Batch mode (-B): one job a line on stdin,
 *   FILE[:OFFSET:LENGTH] DOMAIN SENDER RCPT...     (SENDER "<>" for none)
 * each answered by its result lines and a line ".". Connections stay
 * open between jobs for the same destination. */
static int
batch(struct job *j, const struct opts *o, struct plan *p)
{
	char inspace[BUF_SIZE];
	struct buf in;
	struct str line = STR_INIT;
	struct cache c = { NULL, STR_INIT };
	char **f = calloc(RCPT_MAX + 3, sizeof *f);
	int g;
	unsigned long long jobs = 0, okjobs = 0, permjobs = 0;

	if (!f)
		die_nomem(EXIT_TEMP);
	buf_init(&in, 0, inspace, sizeof inspace);
	while ((g = buf_getline(&in, &line, BATCH_LINE_MAX, '\n')) == BUF_LINE || g == BUF_PARTIAL) {
		size_t nf = 0, k;
		char *q = line.s, *colon;
		unsigned long long off = 0, len = 0;
		int haslen = 0, r;
		while (*q && nf < RCPT_MAX + 3) {
			while (*q == ' ')
				*q++ = 0;
			if (!*q)
				break;
			f[nf++] = q;
			while (*q && *q != ' ')
				q++;
		}
		if (nf < 4) {
			warn_x("parse", "a batch line", "want FILE DOMAIN SENDER RCPT...");
			if (buf_writeall(1, ".\n", 2, 0, 0) < 0)
				die_sys(EXIT_TEMP, "write", "stdout");
			continue;
		}
		colon = strchr(f[0], ':');
		if (colon) {
			char *c2 = strchr(colon + 1, ':');
			*colon = 0;
			if (!c2 || scan_ulong(colon + 1, (size_t)(c2 - colon - 1), ~0ULL >> 1, &off) < 0 ||
			    scan_ulongz(c2 + 1, ~0ULL >> 1, &len) < 0)
				off = len = 0, f[0] = "";
			haslen = 1;
		}
		j->domain = f[1];
		j->sender = strcmp(f[2], "<>") == 0 ? "" : f[2];
		job_envelope(j, f + 3, nf - 3);
		r = message_file(j, f[0], off, len, haslen);
		if (r < 0)
			job_settle(j, ST_TEMP, "4.3.0", "unable to read the message file", "-");
		run_job(j, o, p, &c);
		r = print_results(j);
		if (buf_writeall(1, ".\n", 2, 0, 0) < 0)
			die_sys(EXIT_TEMP, "write", "stdout");
		jobs++;
		okjobs += r == EXIT_OK;
		permjobs += r == EXIT_PERM;
		if (j->msgfd >= 0)
			close(j->msgfd);
		for (k = 0; k < nf; k++)
			f[k] = NULL;
		job_free(j);
	}
	if (c.s)
		session_close(c.s);
	str_free(&c.key);
	str_free(&line);
	free(f);
	if (g == BUF_ERR)
		die_sys(EXIT_TEMP, "read", "stdin");
	return okjobs == jobs ? EXIT_OK : permjobs == jobs ? EXIT_PERM : EXIT_TEMP;
}

int
main(int argc, char **argv)
{
	struct job j = { 0 };
	struct plan *p;
	struct opts o = { 25, DNS_WANT_V4 | DNS_WANT_V6, TLS_MODE_TRY, 0, NULL };
	struct str helo = STR_INIT, routes = STR_INIT;
	unsigned long long port = 25, wsec = 0;
	int opt, batchmode = 0;

	die_init("smtp-send");
	/* a peer that closes early is an error to report, not a reason to die */
	signal(SIGPIPE, SIG_IGN);
	j.sender = getenv("SENDER");
	j.msgfd = -1;
	while ((opt = getopt(argc, argv, "Bf:h:p:r:RT:C:46w:")) != -1) {
		switch (opt) {
		case 'B': batchmode = 1; break;
		case 'f': j.sender = optarg; break;
		case 'h': j.helo = optarg; break;
		case 'p':
			if (scan_ulongz(optarg, 65535, &port) < 0 || port == 0)
				die_usage(USAGE);
			o.port = (unsigned)port;
			break;
		case 'r': o.routesfile = optarg; break;
		case 'R': o.noroutes = 1; break;
		case 'T': o.tlsmode = tlsmode_of(optarg); break;
		case 'C': j.cafile = optarg; break;
		case '4': o.want = DNS_WANT_V4; break;
		case '6': o.want = DNS_WANT_V6; break;
		case 'w':
			if (scan_ulongz(optarg, 86400, &wsec) < 0 || wsec == 0)
				die_usage(USAGE);
			break;
		default: die_usage(USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (batchmode ? argc != 0 : argc < 2)
		die_usage(USAGE);
	if ((size_t)argc > RCPT_MAX + 1)
		die_msg(EXIT_PERM, "too many recipients");
	j.tcap = (int)wsec * 1000;
	if (!j.helo) {
		helo_name(&helo);
		j.helo = helo.s;
	}
	if (!o.noroutes && !o.routesfile) {
		if (conf_path(&routes, "routes") < 0 || str_0(&routes) < 0)
			die_nomem(EXIT_TEMP);
		o.routesfile = routes.s;
	}
	if (dns_init() < 0)
		die_sys(EXIT_TEMP, "initialize", "the resolver");
	p = calloc(1, sizeof *p);
	if (!p)
		die_nomem(EXIT_TEMP);
	route_init(&p->route);
	if (batchmode)
		return batch(&j, &o, p);
	if (!j.sender)
		j.sender = "";
	j.domain = argv[0];
	job_envelope(&j, argv + 1, (size_t)(argc - 1));
	read_dsn(&j);
	message_open(&j);
	run_job(&j, &o, p, NULL);
	return print_results(&j);
}
