/* The routes control file ($PIPEMAIL_CONF/routes), read by smtp-send:
 * where mail for a domain goes instead of its MX hosts, in the spirit of
 * qmail's smtproutes. One route a line, '#' starts a comment:
 *
 *   DOMAIN:HOST[:PORT] [tls=no|try|must|verify] [auth=USER:PASSWORD]
 *
 *   DOMAIN   example.org     that domain only
 *            .example.org    any subdomain of example.org
 *            *               every other domain (a smarthost)
 *   HOST     relay.example   a host name: its addresses (getaddrinfo), no MX lookup
 *            [192.0.2.1]     an address; IPv6 only in brackets: [2001:db8::1]
 *            (empty)         "example.org:" means: the normal MX lookup
 *   PORT     1..65535, default smtp-send's -p (25)
 *   tls=     this route's STARTTLS policy, overriding smtp-send -T
 *   auth=    SMTP AUTH (PLAIN or LOGIN) to this host, only ever over TLS
 *            (verified, unless the route's tls= says otherwise: smtp-send);
 *            must come last: the password runs to the end of the line.
 *
 * An exact domain beats the longest matching .suffix, which beats '*';
 * of two lines for the same domain the first wins (unlike the control
 * files mailuser compiles, where a key twice is an error: this file is
 * read at every delivery, so a refusal would hold up all remote mail).
 * Domains compare in ASCII lower case; a trailing root dot is ignored.
 * Blanks at the end of a line are not part of it, of an auth= password
 * either.
 * Keep the file mode 0600 when it holds passwords. */
#ifndef ROUTES_H
#define ROUTES_H

#include "str.h"

enum { ROUTES_LINE_MAX = 4096 };

enum {
	ROUTE_TLS_DEFAULT = 0,   /* whatever smtp-send was told */
	ROUTE_TLS_NO,            /* never STARTTLS */
	ROUTE_TLS_TRY,           /* STARTTLS when offered, no verification */
	ROUTE_TLS_MUST,          /* STARTTLS required, no verification */
	ROUTE_TLS_VERIFY         /* STARTTLS required, certificate and name verified */
};

struct route {
	struct str host;     /* empty: MX lookup; no brackets kept */
	unsigned port;       /* 0: the default port */
	int tls;             /* ROUTE_TLS_* */
	struct str user;     /* empty: no AUTH */
	struct str pass;
};

void route_init(struct route *);
void route_free(struct route *);

/* Parse one line (no newline). 1: a route for *domain (lower-cased);
 * 0: blank or comment; -1: syntax error (errno EINVAL) or ENOMEM. */
int routes_parse(const char *line, size_t len, struct str *domain, struct route *);

/* Does pattern (as parsed) match domain (lower case)? 0 no; else a rank,
 * higher is more specific: 1 for '*', 2 + length for a .suffix, the
 * maximum for an exact match. */
unsigned long routes_match(const char *pattern, const char *domain);

/* Find domain's route in file. 1 found, 0 no route (or no file), -1
 * error with errno (EINVAL: syntax error at *lineno). */
int routes_lookup(const char *file, const char *domain, struct route *, unsigned long *lineno);

#endif
