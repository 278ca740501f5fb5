/* ucspitls: the server side of UCSPI-TLS over real socketpairs.
 * With the argument "serve" (or "serve1": reads one byte at a time, so
 * pipelined input stays in the socket) it is instead a tiny SMTP-like
 * server for tests/3x-tls-*.t, run as tls-serve's prog over lib/ucspitls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "log.h"
#include "tap.h"
#include "ucspitls.h"

static int serve(int bytewise);
static void facts_cases(void);

static void
setfd(const char *name, int fd)
{
	char b[16];
	snprintf(b, sizeof b, "%d", fd);
	setenv(name, b, 1);
}

int
main(int argc, char **argv)
{
	int ctl[2], data[2], r = -1, w = -1;
	char y = 0;
	struct str p = STR_INIT, c = STR_INIT;

	if (argc > 1)
		return serve(strcmp(argv[1], "serve1") == 0);
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

	facts_cases();

	setenv("SSL_PROTOCOL", "TLSv1.2", 1);
	setenv("SSL_CIPHER", "ECDHE-RSA-AES128-GCM-SHA256", 1);
	ok(ucspitls_implicit(), "SSL_PROTOCOL set: implicit");
	ok(ucspitls_info(&p, &c), "implicit facts");
	is_mem(p.s, p.len, "TLSv1.2", 7, "implicit protocol");
	str_free(&p);
	str_free(&c);
	return done();
}

/* A fresh ucspitls_start over new socketpairs; returns the wrapper's end
 * of the control socket, or -1. */
static int
fresh(void)
{
	int ctl[2], r, w;
	char y;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0)
		return -1;
	setfd("SSLCTLFD", ctl[0]);
	setfd("SSLREADFD", ctl[0]);
	setfd("SSLWRITEFD", ctl[0]);
	if (ucspitls_start(&r, &w) < 0 || read(ctl[1], &y, 1) != 1)
		return -1;
	return ctl[1];
}

static int
facts(const char *b, size_t n, int close_after, struct str *p, struct str *c)
{
	int fd = fresh(), known;
	if (fd < 0 || write(fd, b, n) != (ssize_t)n)
		return -1;
	if (close_after)
		close(fd);
	known = ucspitls_info(p, c);
	if (!close_after)
		close(fd);
	return known;
}

#define FACTS(lit, close_after) facts((lit), sizeof (lit) - 1, (close_after), &p, &c)

static void
facts_cases(void)
{
	static const char whole[] = "SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=TLS_AES_128_GCM_SHA256\0\0";
	static char big[6000];
	struct str p = STR_INIT, c = STR_INIT;
	size_t i;
	int fd = fresh(), known = 0;

	for (i = 0; fd >= 0 && i < sizeof whole - 1; i++) {
		if (write(fd, whole + i, 1) != 1)
			break;
		known = ucspitls_info(&p, &c);
		if (known && i < sizeof whole - 3)
			break;
	}
	ok(known && i == sizeof whole - 1, "facts one byte at a time: known only once both records are whole");
	is_mem(c.s, c.len, "TLS_AES_128_GCM_SHA256", 22, "byte-wise cipher");
	close(fd);

	is_int(FACTS("SSL_CIPHER=X\0SSL_PROTOCOL=TLSv1.2\0\0", 0), 1, "records in any order");
	is_mem(p.s, p.len, "TLSv1.2", 7, "protocol found after the cipher");
	is_int(FACTS("SSL_PROTOCOL=TLSv1.2\0", 1), 1, "EOF after the protocol: known, no cipher");
	is_int((long long)c.len, 0, "no cipher: empty");
	is_int(FACTS("SSL_PROTOCOLX=a\0SSL_PROTOCOL=\0\0", 0), 0, "a longer key and an empty value: unknown");
	is_int(FACTS("\0SSL_PROTOCOL=TLSv1.3\0\0", 0), 0, "records after the terminator are ignored");
	memset(big, 'a', sizeof big);
	is_int(facts(big, sizeof big, 0, &p, &c), 0, "6000 bytes without a NUL: unknown, bounded");
	is_int(FACTS("", 1), 0, "nothing then EOF: unknown");
	str_free(&p);
	str_free(&c);
}

/* Test server. Commands: EHLO, STARTTLS, INFO, BIG n, EXIT n, QUIT;
 * anything else is answered "250 got LINE" so smuggled lines show. */
static char inspace[BUF_SIZE], outspace[BUF_SIZE];

static void
reply(struct buf *out, const char *a, const char *b)
{
	if (buf_puts(out, a) < 0 || (b && buf_puts(out, b) < 0) || buf_puts(out, "\r\n") < 0 ||
	    buf_flush(out) < 0)
		die_sys(111, "write", "reply");
}

static void
event(const char *what, int tls, const char *line)
{
	struct logline l;
	log_begin(&l, what);
	log_kvu(&l, "tls", (unsigned long long)tls);
	log_kv(&l, "line", line);
	log_end(&l);
}

static int
serve(int bytewise)
{
	struct buf in, out;
	struct str line = STR_INIT, p = STR_INIT, c = STR_INIT, t = STR_INIT;
	int tls = 0, rfd, wfd;
	die_init("testprog");
	buf_init(&in, 0, inspace, bytewise ? 1 : sizeof inspace);
	buf_init(&out, 1, outspace, sizeof outspace);
	reply(&out, "220 test ready", NULL);
	for (;;) {
		int r = buf_getline(&in, &line, 1000, '\n');
		if (r != BUF_LINE) {
			event("eof", tls, NULL);
			return 0;
		}
		if (line.len && line.s[line.len - 1] == '\r')
			line.len--;
		if (str_0(&line) < 0)
			return 111;
		event("line", tls, line.s);
		if (!strncasecmp(line.s, "EHLO", 4)) {
			reply(&out, "250-test", NULL);
			if (!tls && ucspitls_available())
				reply(&out, "250-STARTTLS", NULL);
			reply(&out, "250 HELP", NULL);
		} else if (!strcasecmp(line.s, "STARTTLS")) {
			if (tls || !ucspitls_available()) {
				reply(&out, "454 TLS not available", NULL);
				continue;
			}
			reply(&out, "220 go ahead", NULL);
			str_trunc(&t, 0);
			if (str_catu(&t, buf_pending(&in)) < 0 || str_0(&t) < 0)
				return 111;
			event("discard", tls, t.s);
			buf_discard(&in);
			if (ucspitls_start(&rfd, &wfd) < 0)
				die_sys(111, "start", "TLS");
			buf_init(&in, rfd, inspace, bytewise ? 1 : sizeof inspace);
			buf_init(&out, wfd, outspace, sizeof outspace);
			tls = 1;
		} else if (!strcasecmp(line.s, "INFO")) {
			const char *u = getenv("UCSPITLS");
			str_trunc(&t, 0);
			if (ucspitls_info(&p, &c)) {
				if (str_catb(&t, p.s, p.len) < 0 || str_catc(&t, ':') < 0 || str_catb(&t, c.s, c.len) < 0)
					return 111;
			} else if (str_cats(&t, "unknown") < 0) {
				return 111;
			}
			if (str_cats(&t, " ucspitls=") < 0 || str_cats(&t, u ? (*u ? u : "empty") : "unset") < 0 ||
			    str_cats(&t, ucspitls_required() ? " required" : " optional") < 0 ||
			    str_cats(&t, " uid=") < 0 || str_catu(&t, getuid()) < 0 || str_0(&t) < 0)
				return 111;
			reply(&out, "250 ", t.s);
		} else if (!strncasecmp(line.s, "BIG ", 4)) {
			unsigned long n = strtoul(line.s + 4, NULL, 10), i;
			for (i = 0; i < n; i++)
				if (buf_put(&out, "x", 1) < 0)
					return 111;
			reply(&out, "", NULL);
		} else if (!strncasecmp(line.s, "EXIT ", 5)) {
			return atoi(line.s + 5);
		} else if (!strcasecmp(line.s, "QUIT")) {
			reply(&out, "221 bye", NULL);
			return 0;
		} else {
			reply(&out, "250 got ", line.s);
		}
	}
}
