/* ucspitls: the server side of UCSPI-TLS over real socketpairs. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "ucspitls.h"

static void
setfd(const char *name, int fd)
{
	char b[16];
	snprintf(b, sizeof b, "%d", fd);
	setenv(name, b, 1);
}

int
main(void)
{
	int ctl[2], data[2], r = -1, w = -1;
	char y = 0;
	struct str p = STR_INIT, c = STR_INIT;

	unsetenv("SSLCTLFD"); unsetenv("SSLREADFD"); unsetenv("SSLWRITEFD");
	unsetenv("UCSPITLS"); unsetenv("SSL_PROTOCOL"); unsetenv("SSL_CIPHER");
	ok(!ucspitls_available(), "nothing set: not available");
	ok(!ucspitls_required(), "nothing set: not required");
	ok(!ucspitls_implicit(), "nothing set: not implicit");
	ok(!ucspitls_info(&p, &c), "nothing set: no info");
	ok(ucspitls_start(&r, &w) < 0, "start without a wrapper fails");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, data) < 0)
		return 1;
	setfd("SSLCTLFD", ctl[0]);
	setfd("SSLREADFD", data[0]);
	setfd("SSLWRITEFD", 99);
	ok(!ucspitls_available(), "a closed fd: not available");
	setfd("SSLWRITEFD", data[0]);
	setenv("SSLREADFD", "3x", 1);
	ok(!ucspitls_available(), "a malformed fd: not available");
	setfd("SSLREADFD", data[0]);
	ok(ucspitls_available(), "three open fds: available");
	setenv("UCSPITLS", "-", 1);
	ok(!ucspitls_available(), "UCSPITLS=- disables");
	setenv("UCSPITLS", "", 1);
	ok(ucspitls_available() && !ucspitls_required(), "UCSPITLS empty: optional");
	setenv("UCSPITLS", "!", 1);
	ok(ucspitls_required(), "UCSPITLS=! : required");

	ok(ucspitls_start(&r, &w) == 0, "start");
	ok(read(ctl[1], &y, 1) == 1 && y == 'Y', "Y written to the control fd");
	ok(r == data[0] && w == data[0], "new fds returned");
	ok(!ucspitls_info(&p, &c), "no facts yet: unknown, and no blocking");
	ok(write(ctl[1], "SSL_PROTOCOL=TLSv1.3\0SSL_CI", 27) == 27, "half the facts");
	ok(!ucspitls_info(&p, &c), "half the facts: still unknown");
	ok(write(ctl[1], "PHER=TLS_AES_256_GCM_SHA384\0\0", 29) == 29, "rest of the facts");
	ok(ucspitls_info(&p, &c), "facts known");
	is_mem(p.s, p.len, "TLSv1.3", 7, "protocol");
	is_mem(c.s, c.len, "TLS_AES_256_GCM_SHA384", 22, "cipher");
	ok(ucspitls_info(&p, &c), "facts still known on a later call");

	setenv("SSL_PROTOCOL", "TLSv1.2", 1);
	setenv("SSL_CIPHER", "ECDHE-RSA-AES128-GCM-SHA256", 1);
	ok(ucspitls_implicit(), "SSL_PROTOCOL set: implicit");
	ok(ucspitls_info(&p, &c), "implicit facts");
	is_mem(p.s, p.len, "TLSv1.2", 7, "implicit protocol");
	str_free(&p);
	str_free(&c);
	return done();
}
