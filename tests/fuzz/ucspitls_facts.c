/* Fuzz the UCSPI-TLS facts reader: whatever a wrapper writes on the
 * control fd, ucspitls_info never crashes, never blocks, and what it
 * reports is a complete record's value without NUL bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ucspitls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_MAX = 8192 };   /* below the socket buffer: one write never blocks */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str p = STR_INIT, c = STR_INIT;
	int ctl[2], r, w;
	char fd[16], y;
	if (size > FUZZ_MAX || socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0)
		return 0;
	snprintf(fd, sizeof fd, "%d", ctl[0]);
	setenv("SSLCTLFD", fd, 1);
	setenv("SSLREADFD", fd, 1);
	setenv("SSLWRITEFD", fd, 1);
	unsetenv("SSL_PROTOCOL");
	if (ucspitls_start(&r, &w) < 0 || read(ctl[1], &y, 1) != 1)
		abort();
	if (size && write(ctl[1], data, size) != (ssize_t)size)
		abort();
	(void)ucspitls_info(&p, &c);       /* maybe more to come */
	close(ctl[1]);
	if (ucspitls_info(&p, &c)) {
		if (!p.len || memchr(p.s, 0, p.len) || (c.len && memchr(c.s, 0, c.len)))
			abort();
		if (!memmem(data, size, p.s, p.len))
			abort();
	}
	close(ctl[0]);
	str_free(&p);
	str_free(&c);
	return 0;
}
