/* DNS lookups for mail routing through libresolv (res_nquery and the
 * ns_parserr message parser): MX records, A and AAAA records.
 * PIPEMAIL_RESOLVER=IPV4[:PORT] points the lookups at one name server
 * instead of /etc/resolv.conf (tests run one on 127.0.0.1). */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <sys/socket.h>

enum { DNS_NAME_MAX = 255, DNS_MX_MAX = 16, DNS_ADDR_MAX = 16 };

/* results */
enum {
	DNS_OK = 0,
	DNS_TEMP = -1,     /* SERVFAIL, timeout, unreadable answer: try later */
	DNS_NXDOMAIN = 1,  /* the name does not exist */
	DNS_NODATA = 2,    /* the name exists, without records of this type */
	DNS_NULLMX = 3     /* RFC 7505: the domain accepts no mail */
};

struct dns_mx {
	char host[DNS_NAME_MAX + 1];
	unsigned pref;
};

struct dns_addr {
	struct sockaddr_storage sa;   /* port 0 */
	socklen_t len;
};

enum { DNS_WANT_V4 = 1, DNS_WANT_V6 = 2 };

/* Read PIPEMAIL_RESOLVER / resolv.conf once; later calls are no-ops.
 * 0 ok, -1 (bad PIPEMAIL_RESOLVER: errno EINVAL; else resolver init). */
int dns_init(void);

/* MX records of domain, sorted by preference, random order among equal
 * preferences. DNS_OK with *n >= 1, or NXDOMAIN, NODATA (the caller uses
 * the implicit MX), NULLMX, TEMP. */
int dns_mx(const char *domain, struct dns_mx *mx, size_t max, size_t *n);

/* Addresses of host: AAAA first (when wanted), then A; with both, the A
 * records keep up to half of max. DNS_OK with
 * *n >= 1, or NXDOMAIN, NODATA, TEMP. */
int dns_addrs(const char *host, int want, struct dns_addr *a, size_t max, size_t *n);

/* A domain as DNS takes it: a name with non-ASCII bytes (UTF-8) goes
 * through IDNA2008's lookup (libidn2: UTS #46 mapping, non-transitional;
 * its U-labels become "xn--" A-labels), an ASCII one stays as written; a
 * trailing root dot goes. 0 ok; -1 not a usable name (bad UTF-8, a code
 * point IDNA2008 disallows, an empty label, a label over 63 or a name
 * over 253 bytes, out too small). */
int dns_idna(const char *name, char *out, size_t outmax);

/* Sort by preference and shuffle equal preferences (exported for tests). */
void dns_mx_sort(struct dns_mx *mx, size_t n);

#endif
