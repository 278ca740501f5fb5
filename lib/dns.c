/* Answers are parsed only with ns_initparse/ns_parserr and names with
 * ns_name_uncompress, which check every offset against the message end. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <idn2.h>
#include "dns.h"
#include "scan.h"

enum { DNS_ANSWER_MAX = 65536 };

static struct __res_state rs;
static int inited;

static int
set_server(const char *spec)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strchr(spec, ':');
	size_t iplen = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long long port = NS_DEFAULTPORT;
	struct sockaddr_in sin;
	int i;

	if (iplen == 0 || iplen >= sizeof ip)
		goto bad;
	memcpy(ip, spec, iplen);
	ip[iplen] = 0;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		goto bad;
	if (colon && (scan_ulongz(colon + 1, 65535, &port) < 0 || port == 0))
		goto bad;
	sin.sin_port = htons((unsigned short)port);
	/* glibc keeps IPv6 servers from resolv.conf aside; drop them so the
	 * one server below is the only one asked */
	for (i = 0; i < MAXNS; i++) {
		free(rs._u._ext.nsaddrs[i]);
		rs._u._ext.nsaddrs[i] = NULL;
	}
	rs.nsaddr_list[0] = sin;
	rs.nscount = 1;
	rs.retrans = 2;
	rs.retry = 2;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
dns_init(void)
{
	const char *spec;
	if (inited)
		return 0;
	if (res_ninit(&rs) < 0)
		return -1;
	rs.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	spec = getenv("PIPEMAIL_RESOLVER");
	if (spec && *spec && set_server(spec) < 0) {
		res_nclose(&rs);
		return -1;
	}
	inited = 1;
	return 0;
}

/* Run one query. DNS_OK with the message parsed into *msg, or a result. */
static int
query(const char *name, int type, unsigned char *ans, ns_msg *msg)
{
	int len;
	if (dns_init() < 0)
		return DNS_TEMP;
	len = res_nquery(&rs, name, ns_c_in, type, ans, DNS_ANSWER_MAX);
	if (len < 0) {
		switch (rs.res_h_errno) {
		case HOST_NOT_FOUND: return DNS_NXDOMAIN;
		case NO_DATA: return DNS_NODATA;
		default: return DNS_TEMP;
		}
	}
	if (len > DNS_ANSWER_MAX || ns_initparse(ans, len, msg) < 0)
		return DNS_TEMP;
	return DNS_OK;
}

static int
root(const char *name)
{
	return name[0] == 0 || strcmp(name, ".") == 0;
}

void
dns_mx_sort(struct dns_mx *mx, size_t n)
{
	size_t i, j, k;
	/* insertion sort: n is at most DNS_MX_MAX */
	for (i = 1; i < n; i++) {
		struct dns_mx t = mx[i];
		for (j = i; j > 0 && mx[j - 1].pref > t.pref; j--)
			mx[j] = mx[j - 1];
		mx[j] = t;
	}
	/* Fisher-Yates within each run of equal preference */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mx[j].pref == mx[i].pref; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t r = i + arc4random_uniform((uint32_t)(k - i + 1));
			struct dns_mx t = mx[k];
			mx[k] = mx[r];
			mx[r] = t;
		}
	}
}

int
dns_mx(const char *domain, struct dns_mx *mx, size_t max, size_t *n)
{
	unsigned char *ans;
	ns_msg msg;
	ns_rr rr;
	int r, i, count, nullmx = 0;
	size_t k;
	unsigned int pref;

	*n = 0;
	ans = malloc(DNS_ANSWER_MAX);
	if (!ans)
		return DNS_TEMP;
	r = query(domain, ns_t_mx, ans, &msg);
	if (r != DNS_OK)
		goto done;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		char name[NS_MAXDNAME];
		const unsigned char *rd;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			r = DNS_TEMP;
			goto done;
		}
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue;   /* a CNAME on the way */
		rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 3 ||
		    ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd + 2, name, sizeof name) < 0) {
			r = DNS_TEMP;
			goto done;
		}
		if (root(name)) {
			nullmx = 1;
			continue;
		}
		if (strlen(name) > DNS_NAME_MAX)
			continue;
		pref = ns_get16(rd);
		k = *n;
		if (*n >= max) {
			/* full: a more preferred host takes the least preferred
			 * one's place, whatever order the answer came in */
			size_t j, w = 0;
			if (max == 0)
				continue;
			for (j = 1; j < *n; j++)
				if (mx[j].pref > mx[w].pref)
					w = j;
			if (mx[w].pref <= pref)
				continue;
			k = w;
		} else
			(*n)++;
		mx[k].pref = pref;
		memcpy(mx[k].host, name, strlen(name) + 1);
	}
	if (*n == 0)
		r = nullmx ? DNS_NULLMX : DNS_NODATA;
	else
		dns_mx_sort(mx, *n);
done:
	free(ans);
	return r;
}

static int
addrs(const char *host, int type, unsigned char *ans, struct dns_addr *a, size_t max, size_t *n)
{
	ns_msg msg;
	ns_rr rr;
	int r, i, count;
	size_t before = *n;

	r = query(host, type, ans, &msg);
	if (r != DNS_OK)
		return r;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && *n < max; i++) {
		struct dns_addr *d = &a[*n];
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return DNS_TEMP;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		memset(d, 0, sizeof *d);
		if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&d->sa;
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, ns_rr_rdata(rr), 4);
			d->len = sizeof *sin;
		} else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&d->sa;
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, ns_rr_rdata(rr), 16);
			d->len = sizeof *sin6;
		} else {
			continue;
		}
		(*n)++;
	}
	return *n > before ? DNS_OK : DNS_NODATA;
}

int
dns_addrs(const char *host, int want, struct dns_addr *a, size_t max, size_t *n)
{
	unsigned char *ans;
	int r6 = DNS_NODATA, r4 = DNS_NODATA;

	*n = 0;
	ans = malloc(DNS_ANSWER_MAX);
	if (!ans)
		return DNS_TEMP;
	if (want & DNS_WANT_V6)
		r6 = addrs(host, ns_t_aaaa, ans, a, max, n);
	if ((want & DNS_WANT_V4) && r6 != DNS_NXDOMAIN) {
		/* A records keep up to half the room when AAAA would fill it: a
		 * host with many AAAA keeps its IPv4 addresses reachable (IPv6
		 * often fails where IPv4 works); a host with few A records
		 * leaves the rest to AAAA */
		struct dns_addr v4[DNS_ADDR_MAX];
		size_t n4 = 0, keep4, room = max < DNS_ADDR_MAX ? max : DNS_ADDR_MAX;
		r4 = addrs(host, ns_t_a, ans, v4, room, &n4);
		keep4 = n4 < room / 2 ? n4 : room / 2;
		if (*n > max - keep4)
			*n = max - keep4;
		if (keep4 < max - *n)
			keep4 = n4 < max - *n ? n4 : max - *n;
		memcpy(a + *n, v4, keep4 * sizeof *v4);
		*n += keep4;
	}
	free(ans);
	if (*n > 0)
		return DNS_OK;
	if (r6 == DNS_TEMP || r4 == DNS_TEMP)
		return DNS_TEMP;
	if (r6 == DNS_NXDOMAIN || r4 == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	return DNS_NODATA;
}

/* --- IDNA A-labels: libidn2 (IDNA2008, UTS #46 mapping) --- */

enum { LABEL_MAX = 63, NAME_TEXT_MAX = 253 };

/* An ASCII name's labels: 1..63 bytes, none empty. */
static int
ascii_name_ok(const char *p, size_t len)
{
	size_t l = 0, i;
	for (i = 0; i < len; i++) {
		if (p[i] != '.') {
			if (++l > LABEL_MAX)
				return 0;
		} else if (l == 0)
			return 0;
		else
			l = 0;
	}
	return l > 0;
}

int
dns_idna(const char *name, char *out, size_t outmax)
{
	size_t len = strlen(name), i;
	char *in;
	uint8_t *a = NULL;
	int ascii = 1, r;
	if (len && name[len - 1] == '.')
		len--;   /* the root */
	for (i = 0; i < len; i++)
		ascii &= (unsigned char)name[i] < 0x80;
	if (ascii) {
		/* nothing to convert: kept as written, case too */
		if (len == 0 || len > NAME_TEXT_MAX || len >= outmax || !ascii_name_ok(name, len))
			return -1;
		memcpy(out, name, len);
		out[len] = 0;
		return 0;
	}
	if (!(in = strndup(name, len)))
		return -1;
	/* lookup rules (RFC 5891 5): UTS #46 mapping, non-transitional, so
	 * U+00DF and U+03C2 stay themselves, as browsers and registries do */
	r = idn2_lookup_u8((const uint8_t *)in, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	free(in);
	if (r != IDN2_OK)
		return -1;
	len = strlen((const char *)a);
	r = len == 0 || len > NAME_TEXT_MAX || len >= outmax || !ascii_name_ok((const char *)a, len) ? -1 : 0;
	if (r == 0)
		memcpy(out, a, len + 1);
	idn2_free(a);
	return r;
}
