/* Unit tests for lib/maildeliver's copy: the stored bytes, ,S= (the
 * file's size) and ,W= (what a POP3 RETR or IMAP BODY[] sends: every
 * LF not after a CR gains one) over inputs with odd line ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maildeliver.h"
#include "str.h"
#include "tap.h"

/* bytes as pop-serve's RETR sends a file, before dot-stuffing: CRLF
 * line ends, a last line without LF ended */
static unsigned long long
wire_size(const char *s, size_t n)
{
	unsigned long long w = n;
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] == '\n' && !(i && s[i - 1] == '\r'))
			w++;
	if (n && s[n - 1] != '\n')
		w += s[n - 1] == '\r' ? 1 : 2;
	return w;
}

struct tcase {
	const char *why, *in;
	size_t inlen;
	const char *want;
	size_t wantlen;
};
#define B(s) s, sizeof s - 1

static const struct tcase cases[] = {
	{ "empty message", B(""), B("") },
	{ "CRLF ends become LF", B("S: a\r\n\r\nb\r\n"), B("S: a\n\nb\n") },
	{ "CR alone kept", B("S: a\n\nx\ry\n"), B("S: a\n\nx\ry\n") },
	{ "CR CR LF: one CR kept before the LF", B("a\r\r\n"), B("a\r\n") },
	{ "CR CR CR LF", B("x\r\r\r\ny\n"), B("x\r\r\ny\n") },
	{ "no final newline: one added", B("S: a\n\nbody no nl"), B("S: a\n\nbody no nl\n") },
	{ "only headers, no final newline", B("Subject: h"), B("Subject: h\n") },
	{ "only headers", B("Subject: h\n"), B("Subject: h\n") },
	{ "a final CR is the last line's end", B("S: a\n\nends in CR\r"), B("S: a\n\nends in CR\n") },
	{ "CR alone as the message", B("\r"), B("\n") },
	{ "two CRs at the end", B("a\r\r"), B("a\r\n") },
	{ "NUL bytes kept", B("S: \0\n\na\0b\r\n\0"), B("S: \0\n\na\0b\n\0\n") },
	{ "blank lines only", B("\n\r\n\n"), B("\n\n\n") },
};

static int
copy(const char *top, const char *in, size_t inlen, struct str *got, struct copy_result *r)
{
	struct str t = STR_INIT, dt = STR_INIT;
	char path[] = "/tmp/pmunit-maildeliver.XXXXXX";
	int p[2], out = mkstemp(path), rc;
	char b[4096];
	ssize_t n;
	if (out < 0 || pipe(p) < 0)
		return -9;
	unlink(path);
	if (write(p[1], in, inlen) != (ssize_t)inlen)
		return -9;
	close(p[1]);
	str_copys(&t, top);
	rc = maildeliver_copy(p[0], out, &t, &dt, r);
	close(p[0]);
	str_trunc(got, 0);
	lseek(out, 0, SEEK_SET);
	while ((n = read(out, b, sizeof b)) > 0)
		str_catb(got, b, (size_t)n);
	close(out);
	str_free(&t);
	str_free(&dt);
	return rc;
}

int
main(void)
{
	struct str got = STR_INIT;
	struct copy_result r;
	char name[256];
	size_t i;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *c = cases + i;
		int rc = copy("", c->in, c->inlen, &got, &r);
		snprintf(name, sizeof name, "%s: stored bytes", c->why);
		ok(rc == COPY_OK && got.len == c->wantlen && (!got.len || memcmp(got.s, c->want, c->wantlen) == 0), name);
		snprintf(name, sizeof name, "%s: S= is the file's size", c->why);
		is_int(r.size, got.len, name);
		snprintf(name, sizeof name, "%s: W= is what RETR sends", c->why);
		is_int(r.vsize, wire_size(got.s, got.len), name);
	}
	/* the envelope lines count in both sizes */
	ok(copy("Return-Path: <a@b>\n", B("x\r\n"), &got, &r) == COPY_OK && r.size == 21 && r.vsize == 23,
	    "envelope lines: S=21 W=23");
	ok(copy("Return-Path: <a@b>\n", B(""), &got, &r) == COPY_OK && r.size == 19 && r.vsize == 20
	    && got.len == 19, "envelope lines and an empty message: nothing added");
	str_free(&got);
	return done();
}
