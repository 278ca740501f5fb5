#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "routes.h"
#include "scan.h"

void
route_init(struct route *r)
{
	r->host = (struct str)STR_INIT;
	r->user = (struct str)STR_INIT;
	r->pass = (struct str)STR_INIT;
	r->port = 0;
	r->tls = ROUTE_TLS_DEFAULT;
}

void
route_free(struct route *r)
{
	str_free(&r->host);
	str_free(&r->user);
	if (r->pass.s)
		memset(r->pass.s, 0, r->pass.cap);
	str_free(&r->pass);
}

static int
isws(char c)
{
	return c == ' ' || c == '\t';
}

/* host names and addresses: letters, digits, '-', '.', '_', ':' in brackets */
static int
hostchar(char c, int bracket)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || (bracket && c == ':');
}

static int
syntax(void)
{
	errno = EINVAL;
	return -1;
}

static int
option(const char *s, size_t n, struct route *r)
{
	if (n == 6 && memcmp(s, "tls=no", 6) == 0)
		r->tls = ROUTE_TLS_NO;
	else if (n == 7 && memcmp(s, "tls=try", 7) == 0)
		r->tls = ROUTE_TLS_TRY;
	else if (n == 8 && memcmp(s, "tls=must", 8) == 0)
		r->tls = ROUTE_TLS_MUST;
	else if (n == 10 && memcmp(s, "tls=verify", 10) == 0)
		r->tls = ROUTE_TLS_VERIFY;
	else
		return syntax();
	return 0;
}

int
routes_parse(const char *line, size_t len, struct str *domain, struct route *r)
{
	size_t i = 0, j, dlen;
	int bracket = 0;
	while (len > 0 && (isws(line[len - 1]) || line[len - 1] == '\r'))
		len--;
	while (i < len && isws(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	r->host.len = r->user.len = r->pass.len = 0;
	r->port = 0;
	r->tls = ROUTE_TLS_DEFAULT;

	/* DOMAIN */
	for (j = i; j < len && line[j] != ':'; j++)
		if (!(hostchar(line[j], 0) || (line[j] == '*' && j == i)))
			return syntax();
	if (j == i || j == len)
		return syntax();
	if (line[i] == '*' && j - i != 1)
		return syntax();
	/* "example.org." as in zone files: routes_lookup drops the looked-up
	 * domain's root dot, so drop the pattern's too */
	dlen = j - i;
	if (dlen > 1 && line[j - 1] == '.')
		dlen--;
	if (dlen == 1 && line[i] == '.')
		return syntax();
	if (str_copyb(domain, line + i, dlen) < 0 || str_0(domain) < 0)
		return -1;
	str_lower(domain);
	i = j + 1;

	/* HOST */
	if (i < len && line[i] == '[') {
		bracket = 1;
		i++;
	}
	for (j = i; j < len && hostchar(line[j], bracket); j++)
		;
	if (bracket) {
		if (j == len || line[j] != ']' || j == i)
			return syntax();
	}
	if (str_copyb(&r->host, line + i, j - i) < 0 || str_0(&r->host) < 0)
		return -1;
	i = j + bracket;

	/* :PORT */
	if (i < len && line[i] == ':') {
		unsigned long long port;
		i++;
		for (j = i; j < len && line[j] >= '0' && line[j] <= '9'; j++)
			;
		if (scan_ulong(line + i, j - i, 65535, &port) < 0 || port == 0)
			return syntax();
		r->port = (unsigned)port;
		i = j;
	}
	if (r->host.len == 0 && r->port)
		return syntax();

	/* options */
	while (i < len) {
		if (!isws(line[i]))
			return syntax();
		while (i < len && isws(line[i]))
			i++;
		if (i == len)
			break;
		if (len - i > 5 && memcmp(line + i, "auth=", 5) == 0) {
			const char *u = line + i + 5, *colon;
			size_t ulen = len - i - 5;
			colon = memchr(u, ':', ulen);
			if (!colon || colon == u || colon + 1 == u + ulen)
				return syntax();
			if (memchr(u, '\0', ulen))
				return syntax();
			if (str_copyb(&r->user, u, (size_t)(colon - u)) < 0 || str_0(&r->user) < 0)
				return -1;
			if (str_copyb(&r->pass, colon + 1, (size_t)(u + ulen - colon - 1)) < 0 ||
			    str_0(&r->pass) < 0)
				return -1;
			if (memchr(r->user.s, ' ', r->user.len) || memchr(r->user.s, '\t', r->user.len))
				return syntax();
			break;
		}
		for (j = i; j < len && !isws(line[j]); j++)
			;
		if (option(line + i, j - i, r) < 0)
			return -1;
		i = j;
	}
	if (r->user.len && r->host.len == 0)
		return syntax();   /* credentials go to a named smarthost only */
	return 1;
}

unsigned long
routes_match(const char *pattern, const char *domain)
{
	size_t p = strlen(pattern), d = strlen(domain);
	if (strcmp(pattern, "*") == 0)
		return 1;
	if (pattern[0] == '.') {
		if (d > p && memcmp(domain + d - p, pattern, p) == 0)
			return 2 + p;
		return 0;
	}
	return p == d && memcmp(pattern, domain, p) == 0 ? ULONG_MAX : 0;
}

static void
swap(struct route *a, struct route *b)
{
	struct route t = *a;
	*a = *b;
	*b = t;
}

int
routes_lookup(const char *file, const char *domain, struct route *out, unsigned long *lineno)
{
	char space[BUF_SIZE];
	struct buf b;
	struct str line = STR_INIT, dom = STR_INIT, want = STR_INIT;
	struct route r;
	unsigned long n = 0, best = 0, rank;
	int fd, ret = -1, g, last;

	if (lineno)
		*lineno = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (str_copys(&want, domain) < 0 || str_0(&want) < 0) {
		close(fd);
		return -1;
	}
	str_lower(&want);
	while (want.len && want.s[want.len - 1] == '.')   /* a trailing root dot */
		want.s[--want.len] = 0;
	route_init(&r);
	buf_init(&b, fd, space, sizeof space);
	for (;;) {
		last = buf_getline(&b, &line, ROUTES_LINE_MAX, '\n');
		if (last == BUF_EOF)
			break;
		n++;
		if (last == BUF_ERR)
			goto done;
		if (last == BUF_TOOLONG) {
			errno = EINVAL;
			goto done;
		}
		g = routes_parse(line.s, line.len, &dom, &r);
		if (g < 0)
			goto done;
		rank = g ? routes_match(dom.s, want.s) : 0;
		if (rank > best) {
			best = rank;
			swap(out, &r);
		}
		if (last == BUF_PARTIAL)
			break;
	}
	ret = best > 0;
done:
	if (lineno && ret < 0)
		*lineno = n;
	close(fd);
	route_free(&r);
	str_free(&line);
	str_free(&dom);
	str_free(&want);
	return ret;
}
