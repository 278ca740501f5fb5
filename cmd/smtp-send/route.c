/* Where a job goes and how: the routes file or the MX hosts, each
 * address in turn, a cached connection first in batch mode. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include "die.h"
#include "dns.h"
#include "exitcode.h"
#include "routes.h"
#include "queue.h"
#include "smtp-send.h"

enum { CACHE_AGE_MS = 300000 };

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

static int
numeric_host(const char *host)
{
	unsigned char bin[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
}

/* Is a an address of this host's (RFC 5321 5.1: the MX hosts that are
 * us are not tried)? The interface list is read once. */
/* x and y name the same IPv4 or IPv6 address (ports aside) */
static int
same_ip(const struct sockaddr *x, const struct sockaddr *y)
{
	if (x->sa_family != y->sa_family)
		return 0;
	if (x->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)x)->sin_addr,
		    &((const struct sockaddr_in *)(const void *)y)->sin_addr, sizeof(struct in_addr)) == 0;
	if (x->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)x)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)y)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

static in_port_t
port_of(const struct sockaddr *x)
{
	return x->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)(const void *)x)->sin6_port
	                                : ((const struct sockaddr_in *)(const void *)x)->sin_port;
}

static int
own_address(const struct dns_addr *a)
{
	static struct ifaddrs *ifs;
	static int read;
	const struct ifaddrs *i;
	/* all of 127/8 and 0/8 reach this host, whatever the interfaces say */
	if (a->sa.ss_family == AF_INET) {
		unsigned char b0 = ((const unsigned char *)&((const struct sockaddr_in *)&a->sa)->sin_addr)[0];
		if (b0 == 127 || b0 == 0)
			return 1;
	} else if (a->sa.ss_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(in6) || IN6_IS_ADDR_UNSPECIFIED(in6) ||
		    (IN6_IS_ADDR_V4MAPPED(in6) && (in6->s6_addr[12] == 127 || in6->s6_addr[12] == 0)))
			return 1;
	}
	if (!read) {
		read = 1;
		if (getifaddrs(&ifs) < 0)
			ifs = NULL;
	}
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && same_ip(i->ifa_addr, (const struct sockaddr *)&a->sa))
			return 1;
	return 0;
}

/* An MX host that is this host: on the SMTP port, where our own server
 * listens, one of its addresses is ours (as Postfix and qmail tell) */
static int
is_self(const struct plan *p, const struct dns_addr *a, size_t na)
{
	size_t i;
	if (p->port != 25)
		return 0;
	for (i = 0; i < na; i++)
		if (own_address(&a[i]))
			return 1;
	return 0;
}

/* s into the cache, in place of a connection the job moved on from:
 * the one that took the mail is the one to keep */
static int
add_session(struct cache *c, struct sess *s, const struct plan *p)
{
	if (!c || !session_reusable(s, CACHE_AGE_MS) || str_copyb(&c->key, p->key.s, p->key.len) < 0) {
		session_close(s);
		return 0;
	}
	if (c->s)
		session_close(c->s);
	c->s = s;
	return 1;
}

/* the same host name at the same address and port */
static int
same_peer(const char *host, const struct dns_addr *a, const char *host2, const struct dns_addr *b)
{
	const struct sockaddr *x = (const void *)&a->sa, *y = (const void *)&b->sa;
	return strcmp(host, host2) == 0 && same_ip(x, y) && port_of(x) == port_of(y);
}

/* An MX host's addresses, looked up before any host is tried */
struct hostaddrs {
	int r;                /* DNS_OK, ..., or -1: not looked up (a route's host, a numeric name) */
	size_t na;
	struct dns_addr a[DNS_ADDR_MAX];
};

/* Every MX host looked up first (as Postfix does): RFC 5321 5.1 drops the
 * hosts at this host's preference and above before any is tried, and the
 * shuffle may put another host of that preference before ours. The
 * preference cut into *cut; NULL when there is no room. */
static struct hostaddrs *
lookup_all(const struct plan *p, int want, unsigned *cut)
{
	struct hostaddrs *ha = calloc(p->nt ? p->nt : 1, sizeof *ha);
	size_t h;
	if (!ha)
		return NULL;
	for (h = 0; h < p->nt; h++) {
		ha[h].r = -1;
		if (p->t[h].system || numeric_host(p->t[h].host))
			continue;
		ha[h].r = dns_addrs(p->t[h].host, want, ha[h].a, DNS_ADDR_MAX, &ha[h].na);
		if (ha[h].r == DNS_OK && is_self(p, ha[h].a, ha[h].na) && p->t[h].pref < *cut)
			*cut = p->t[h].pref;
	}
	return ha;
}

/* The last error of a host that took the connection, kept beside the
 * last error of all: when a later host could not be reached (or had no
 * address), what the one that answered said is the reason to report,
 * and a domain with a host that answered is not dead (queue-run takes
 * "unable to connect" from every recipient for that). */
struct answer {
	struct str err;
	char enh[SMTPREPLY_ENH_MAX];
	char host[DNS_NAME_MAX + 1];
};

static void
keep_answer(struct answer *a, const struct str *lasterr, const char *lastenh, const char *host)
{
	if (!lasterr->len || strncmp(lasterr->s, QUEUE_TEXT_NOCONNECT, sizeof QUEUE_TEXT_NOCONNECT - 1) == 0)
		return;
	if (str_copyb(&a->err, lasterr->s, lasterr->len) < 0 || str_0(&a->err) < 0) {
		a->err.len = 0;   /* no memory: the last error stands */
		return;
	}
	snprintf(a->enh, sizeof a->enh, "%s", lastenh);
	snprintf(a->host, sizeof a->host, "%s", host ? host : "-");
}

/* Try the hosts in order, each address of each host; a cached connection
 * for the same destination first. */
static void
deliver(struct job *j, const struct plan *p, int want, struct cache *cache)
{
	struct str lasterr = STR_INIT;
	char lastenh[SMTPREPLY_ENH_MAX] = "4.4.1";
	char skiphost[DNS_NAME_MAX + 1];   /* the cached connection's, if it put this job off */
	struct dns_addr skipaddr;
	const char *lasthost = NULL;
	size_t h, attempts = 0, unfit = 0;   /* unfit: addresses that cannot take this message */
	int dnstemp = 0, numeric = 0, other = 0;   /* other: an address failed otherwise, or went untried */
	unsigned cut = UINT_MAX;   /* MX hosts of this preference and above are us or behind us */
	struct hostaddrs *ha = NULL;
	int skip = 0, keep = 0;
	struct answer ans = { STR_INIT, "", "" };

	str_copys(&lasterr, "no host could be reached");
	str_0(&lasterr);
	if (cache && cache->s) {
		if (cache->key.len == p->key.len && memcmp(cache->key.s, p->key.s, p->key.len) == 0 &&
		    session_reusable(cache->s, CACHE_AGE_MS)) {
			int r0 = session_deliver(cache->s, j, 1, &lasterr, lastenh);
			switch (r0) {
			case ATT_DONE:
				if (!session_reusable(cache->s, CACHE_AGE_MS)) {
					session_close(cache->s);
					cache->s = NULL;
				}
				goto out;
			case ATT_NEXT:
			case ATT_UNFIT:
				/* the job goes on at the other addresses, as from a
				 * fresh connection there. The connection stays cached
				 * (after RSET it serves the next job, whose sender may
				 * suit it) unless one of them takes the mail */
				session_peer(cache->s, skiphost, sizeof skiphost, &skipaddr);
				skip = 1;
				attempts = 1;
				unfit += r0 == ATT_UNFIT;
				other |= r0 == ATT_NEXT;
				lasthost = skiphost;
				keep_answer(&ans, &lasterr, lastenh, lasthost);
				keep = session_reusable(cache->s, CACHE_AGE_MS);
				break;
			}
		}
		if (!keep) {
			session_close(cache->s);   /* another destination, or gone stale */
			cache->s = NULL;
		}
	}
	if (!(ha = lookup_all(p, want, &cut))) {
		job_settle(j, ST_TEMP, "4.3.0", "out of memory", "-");
		goto out;
	}
	for (h = 0; h < p->nt && attempts < ATTEMPTS_MAX; h++) {
		struct dns_addr sys[DNS_ADDR_MAX], *a = ha[h].a;
		size_t na = ha[h].na, i;
		int r = ha[h].r;
		if (!p->t[h].system && p->t[h].pref >= cut)
			continue;
		if (!p->t[h].system && numeric_host(p->t[h].host)) {
			/* an MX names a host (RFC 1035 3.3.9), and a domain
			 * without brackets is no address literal: an IP address
			 * in their place is a misconfiguration not guessed at
			 * (Exim's default, allow_mx_to_ip = false) */
			numeric = 1;
			other = 1;
			continue;
		}
		if (p->t[h].system) {
			a = sys;
			r = system_addrs(p->t[h].host, want, a, DNS_ADDR_MAX, &na);
		}
		if (r != DNS_OK) {
			other = 1;
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
			if (skip && same_peer(skiphost, &skipaddr, p->t[h].host, &a[i]))
				continue;   /* it put the job off a moment ago */
			do {
				attempts++;
				r2 = session_open(j, p->t[h].host, &a[i], mode, &lasterr, lastenh, &s);
				mode = TLS_MODE_NO;   /* the retry after a failed opportunistic handshake */
			} while (r2 == ATT_PLAIN && attempts < ATTEMPTS_MAX);
			lasthost = p->t[h].host;
			other |= r2 != ATT_DONE;
			if (r2 != ATT_DONE)
				keep_answer(&ans, &lasterr, lastenh, lasthost);
			if (r2 == ATT_DONE) {
				int r3 = session_deliver(s, j, 0, &lasterr, lastenh);
				unfit += r3 == ATT_UNFIT;
				other |= r3 == ATT_NEXT;
				if (r3 == ATT_NEXT || r3 == ATT_UNFIT) {
					keep_answer(&ans, &lasterr, lastenh, lasthost);
					/* kept for the next job as a cached one is (above),
					 * while no other connection holds the place */
					if (cache && !cache->s)
						add_session(cache, s, p);
					else
						session_close(s);
					continue;
				}
				add_session(cache, s, p);
				goto out;
			}
		}
	}
	if (attempts == 0 && !dnstemp && cut != UINT_MAX) {
		struct str why = STR_INIT;
		if (str_copys(&why, "mail for ") < 0 || str_cats(&why, j->domain) < 0 ||
		    str_cats(&why, " loops back to myself (an MX host is this host)") < 0 || str_0(&why) < 0)
			die_nomem(EXIT_TEMP);
		job_settle(j, ST_PERM, "5.4.6", why.s, "-");
		str_free(&why);
		goto out;
	}
	if (attempts == 0 && !dnstemp && !p->t[0].system && !p->more) {
		/* every mail host is known not to exist: RFC 5321 5.1. A route's
		 * host is our configuration, not the domain's: that waits (temp);
		 * so do MX hosts past the ones kept, which might have answered */
		job_settle(j, ST_PERM, "5.4.4", numeric ? "the mail host is an IP address, not a host name" :
		    "no mail host of the domain has an address", p->t[0].host);
		goto out;
	}
	/* every address tried said it cannot take this message (their
	 * SIZE, no 8BITMIME or SMTPUTF8), none left untried: that verdict
	 * stands, not a deferral */
	if (unfit && !other && !p->more && attempts < ATTEMPTS_MAX) {
		job_settle(j, ST_PERM, lastenh, lasterr.s, lasthost);
		goto out;
	}
	/* nothing reached MAIL: whatever the last host said (a 554
	 * greeting, a 5xx to HELO) was about that host, not the recipients;
	 * print_results makes its status class 4 */
	if (ans.err.len)
		job_settle(j, ST_TEMP, ans.enh, ans.err.s, ans.host);
	else
		job_settle(j, ST_TEMP, lastenh, lasterr.s, lasthost);
out:
	free(ha);
	str_free(&lasterr);
	str_free(&ans.err);
}

/* The last routes lookup, kept while the file is the same file with the
 * same contents as far as stat tells (a rename puts another inode in
 * place, an edit moves mtime or ctime): a batch's jobs for one domain
 * read it once, not four system calls a message. The identity is taken
 * before the read, so a file replaced meanwhile is read again next time.
 * File times tick coarsely (a jiffy), so two same-size writes close
 * together may share them: a file changed in the last RACY_S seconds is
 * read every time, as git treats a "racily clean" index entry. */
enum { RACY_S = 2 };
static struct {
	int valid, r;
	struct stat st;
	struct str domain;
} rcache = { 0, 0, { 0 }, STR_INIT };

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* routes_lookup into p->route, through the cache */
static int
route_of(const char *file, const char *domain, struct plan *p, unsigned long *lineno)
{
	struct stat st;
	struct timespec now;
	int r, known = stat(file, &st) == 0;
	*lineno = 0;
	if (known && (clock_gettime(CLOCK_REALTIME, &now) < 0 || now.tv_sec - st.st_ctim.tv_sec <= RACY_S ||
	    now.tv_sec - st.st_mtim.tv_sec <= RACY_S))
		known = 0;   /* too fresh to vouch for: read, and not kept */
	if (known && rcache.valid && same_file(&st, &rcache.st) && strcmp(rcache.domain.s, domain) == 0)
		return rcache.r;
	rcache.valid = 0;
	r = routes_lookup(file, domain, &p->route, lineno);
	if (r >= 0 && known && str_copys(&rcache.domain, domain) == 0 && str_0(&rcache.domain) == 0) {
		rcache.st = st;
		rcache.r = r;
		rcache.valid = 1;
	}
	return r;
}

/* The route or the MX hosts for j's domain. 1: deliver by p; 0: every
 * recipient is settled already. Dies on a broken routes file. */
static int
plan_job(struct job *j, const struct opts *o, struct plan *p)
{
	unsigned long lineno;
	size_t i;
	int r = 0;
	char dom[DNS_NAME_MAX + 1];

	p->nt = 0;
	p->more = 0;
	p->port = o->port;
	p->tlsmode = o->tlsmode;
	p->key.len = 0;
	j->user = j->pass = NULL;
	/* the domain as DNS and the routes file name it: a UTF-8 domain by
	 * its A-labels (routes are written in ASCII); a name DNS cannot
	 * carry fails now, not after days of retries */
	if (j->domain[0] != '[' && dns_idna(j->domain, dom, sizeof dom) < 0) {
		job_settle(j, ST_PERM, "5.1.2", "malformed domain name", "-");
		return 0;
	}
	if (!o->noroutes) {
		r = route_of(o->routesfile, j->domain[0] == '[' ? j->domain : dom, p, &lineno);
		if (r < 0 && errno == EINVAL) {
			char where[32];
			snprintf(where, sizeof where, "line %lu", lineno);
			die_x(EXIT_TEMP, "parse", o->routesfile, where);
		}
		if (r < 0)
			die_sys(EXIT_TEMP, "read", o->routesfile);
	}
	/* a route's TLS policy holds for its MX hosts too ("example.org: tls=verify") */
	if (r == 1 && p->route.tls != ROUTE_TLS_DEFAULT)
		p->tlsmode = p->route.tls;
	/* credentials go only to a host whose certificate names it, unless
	 * the route says otherwise (tls=must for a smarthost with a
	 * self-signed certificate): unverified TLS hands them to whoever
	 * sits in the path */
	else if (r == 1 && p->route.user.len)
		p->tlsmode = ROUTE_TLS_VERIFY;
	if (r == 1 && p->route.host.len) {
		if (p->route.host.len > DNS_NAME_MAX)
			die_x(EXIT_TEMP, "use", o->routesfile, "host name too long");
		memcpy(p->t[0].host, p->route.host.s, p->route.host.len + 1);
		p->t[0].system = 1;
		p->nt = 1;
		if (p->route.port)
			p->port = p->route.port;
		if (p->route.user.len) {
			j->user = p->route.user.s;
			j->pass = p->route.pass.s;
		}
		/* routed mail shares connections by destination */
		if (str_copys(&p->key, "route ") < 0 || str_cats(&p->key, p->t[0].host) < 0)
			die_nomem(EXIT_TEMP);
	} else if (j->domain[0] == '[') {
		/* an address literal (RFC 5321 4.1.3): that address, no DNS */
		const char *a = j->domain + 1;
		size_t len = strlen(a);
		unsigned char bin[sizeof(struct in6_addr)];
		int v6 = len > 5 && strncasecmp(a, "IPv6:", 5) == 0;
		if (v6)
			a += 5, len -= 5;
		if (len < 2 || len - 1 > DNS_NAME_MAX || a[len - 1] != ']') {
			job_settle(j, ST_PERM, "5.1.2", "malformed address literal", "-");
			return 0;
		}
		memcpy(p->t[0].host, a, len - 1);
		p->t[0].host[len - 1] = 0;
		if (inet_pton(v6 ? AF_INET6 : AF_INET, p->t[0].host, bin) != 1) {
			job_settle(j, ST_PERM, "5.1.2", "malformed address literal", "-");
			return 0;
		}
		p->t[0].system = 1;   /* getaddrinfo of a numeric address: no lookup */
		p->nt = 1;
		if (str_copys(&p->key, "literal ") < 0 || str_cats(&p->key, p->t[0].host) < 0)
			die_nomem(EXIT_TEMP);
	} else {
		/* one more than kept: to know that some were left out */
		struct dns_mx mx[DNS_MX_MAX + 1];
		size_t n;
		switch (dns_mx(dom, mx, DNS_MX_MAX + 1, &n)) {
		case DNS_OK:
			p->more = n > DNS_MX_MAX;
			if (p->more)
				n = DNS_MX_MAX;
			for (i = 0; i < n; i++) {
				memcpy(p->t[i].host, mx[i].host, sizeof p->t[i].host);
				p->t[i].system = 0;
				p->t[i].pref = mx[i].pref;
			}
			p->nt = n;
			break;
		case DNS_NODATA:   /* RFC 5321 5.1: the implicit MX */
			memcpy(p->t[0].host, dom, strlen(dom) + 1);
			p->t[0].pref = 0;
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

void
run_job(struct job *j, const struct opts *o, struct plan *p, struct cache *c)
{
	size_t i;
	int pending = 0;
	for (i = 0; i < j->nrcpt; i++)
		pending |= j->rcpt[i].status == ST_PENDING;
	if (pending && plan_job(j, o, p))
		deliver(j, p, o->want, c);
}
