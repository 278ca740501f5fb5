/* Unit tests for the routes file: line syntax, matching, lookup. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "routes.h"
#include "tap.h"

static int
parse(const char *line, struct str *d, struct route *r)
{
	return routes_parse(line, strlen(line), d, r);
}

int
main(void)
{
	struct str d = STR_INIT;
	struct route r;
	char path[] = "/tmp/routes.XXXXXX";
	unsigned long lineno;
	int fd;
	static const char file[] =
	    "# comment\n"
	    "\n"
	    "*:[smart.example]:587 tls=verify auth=u@x:p w:d\n"
	    ".example.org:relay.example.org\n"
	    "sub.example.org:[192.0.2.1]:2525 tls=no\n"
	    "mx.example.org:\n"
	    "v6.example:[2001:db8::1]:25\n";

	route_init(&r);
	is_int(parse("  # x", &d, &r), 0, "comment");
	is_int(parse("", &d, &r), 0, "blank");
	is_int(parse("Example.ORG:[127.0.0.1]:2525", &d, &r), 1, "route");
	is_str(d.s, "example.org", "domain lower-cased");
	is_str(r.host.s, "127.0.0.1", "brackets stripped");
	is_int(r.port, 2525, "port");
	is_int(parse("example.org:relay.example", &d, &r), 1, "no port");
	is_int(r.port, 0, "default port 0");
	is_int(parse("example.org:", &d, &r), 1, "empty host");
	is_int(r.host.len, 0, "empty host: MX lookup");
	is_int(parse("x:[::1]:25 tls=must", &d, &r), 1, "IPv6 in brackets, tls option");
	is_str(r.host.s, "::1", "IPv6 host");
	is_int(r.tls, ROUTE_TLS_MUST, "tls=must");
	is_int(parse("x:h:25 auth=user:pa ss:wd ", &d, &r), 1, "auth");
	is_str(r.user.s, "user", "auth user");
	is_str(r.pass.s, "pa ss:wd", "password to the end of the line (trailing space trimmed)");
	is_int(parse("x:h:0", &d, &r), -1, "port 0");
	is_int(parse("x:h:65536", &d, &r), -1, "port too big");
	is_int(parse("x:h:25x", &d, &r), -1, "junk after the port");
	is_int(parse("x:::1:25", &d, &r), -1, "IPv6 without brackets");
	is_int(parse("x:[h", &d, &r), -1, "unclosed bracket");
	is_int(parse("x:h tls=maybe", &d, &r), -1, "unknown option");
	is_int(parse("x: auth=u:p", &d, &r), -1, "credentials without a host");
	is_int(parse("x:h auth=u", &d, &r), -1, "auth without a password");
	is_int(parse("a*:h", &d, &r), -1, "star inside a domain");
	is_int(parse("x y:h", &d, &r), -1, "space in the domain");
	is_int(parse("x:h:25\r", &d, &r), 1, "CR at the end trimmed");
	/* a fully qualified name, as in DNS zone files: the lookup drops the
	 * looked-up domain's root dot, so the pattern must lose it too */
	is_int(parse("Example.ORG.:relay", &d, &r), 1, "domain with a root dot");
	is_str(d.s, "example.org", "domain's root dot dropped");
	is_int(parse(".example.org.:relay", &d, &r), 1, "suffix with a root dot");
	is_str(d.s, ".example.org", "suffix's root dot dropped");
	is_int(parse(".:relay", &d, &r), -1, "a lone dot is no domain");

	ok(routes_match("*", "a.b") == 1, "star matches anything");
	ok(routes_match(".b.c", "a.b.c") > 1 && routes_match(".b.c", "b.c") == 0, "suffix needs a subdomain");
	ok(routes_match("a.b.c", "a.b.c") == ULONG_MAX, "exact match ranks highest");
	ok(routes_match(".a.b.c", "x.a.b.c") > routes_match(".b.c", "x.a.b.c"), "longer suffix ranks higher");

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, file, sizeof file - 1) == (ssize_t)(sizeof file - 1), "routes file written");
	close(fd);
	is_int(routes_lookup(path, "sub.example.org", &r, &lineno), 1, "exact beats suffix");
	is_str(r.host.s, "192.0.2.1", "exact route host");
	is_int(r.tls, ROUTE_TLS_NO, "exact route tls");
	is_int(routes_lookup(path, "a.example.org.", &r, &lineno), 1, "suffix match (trailing dot ignored)");
	is_str(r.host.s, "relay.example.org", "suffix route host");
	is_int(routes_lookup(path, "MX.example.org", &r, &lineno), 1, "empty-host route found");
	is_int(r.host.len, 0, "empty-host route overrides *");
	is_int(routes_lookup(path, "other.test", &r, &lineno), 1, "default route");
	is_str(r.host.s, "smart.example", "default route host");
	is_str(r.pass.s, "p w:d", "default route password");
	is_int(routes_lookup("/nonexistent/routes", "x", &r, &lineno), 0, "no file: no route");
	/* the same domain twice (in another case, with a root dot): the first line wins */
	fd = open(path, O_WRONLY | O_APPEND);
	ok(write(fd, "SUB.example.org.:[192.0.2.9]\n", 29) == 29, "second route for a domain appended");
	close(fd);
	is_int(routes_lookup(path, "sub.example.org", &r, &lineno), 1, "duplicate domain found");
	is_str(r.host.s, "192.0.2.1", "the first of two routes for a domain wins");
	fd = open(path, O_WRONLY | O_APPEND);
	ok(write(fd, "bad line\n", 9) == 9, "bad line appended");
	close(fd);
	errno = 0;
	is_int(routes_lookup(path, "other.test", &r, &lineno), -1, "syntax error reported");
	ok(errno == EINVAL && lineno == 9, "EINVAL with the line number");
	unlink(path);
	route_free(&r);
	str_free(&d);
	return done();
}
