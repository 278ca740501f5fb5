/* Unit tests for SASL PLAIN decoding and the login helpers that need no
 * users database (delay, privilege drop). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base64.h"
#include "sasl.h"
#include "tap.h"

static int
plain(const char *raw, size_t len, struct str *u, struct str *p)
{
	struct str b = STR_INIT;
	int r;
	base64_encode(&b, raw, len);
	r = sasl_plain_decode(b.s, b.len, u, p);
	str_free(&b);
	return r;
}

#define PLAIN(lit, u, p) plain(lit, sizeof lit - 1, u, p)

static void
test_plain(void)
{
	struct str u = STR_INIT, p = STR_INIT, big = STR_INIT;
	size_t i;
	ok(PLAIN("\0u@x.test\0secret", &u, &p) == 0, "empty authzid accepted");
	is_str(u.s, "u@x.test", "user");
	is_str(p.s, "secret", "password");
	ok(PLAIN("u@x.test\0u@x.test\0pw", &u, &p) == 0, "authzid equal to authcid accepted");
	ok(PLAIN("U@X.test\0u@x.test\0pw", &u, &p) == 0, "authzid equal ignoring case");
	is_int(PLAIN("admin@x.test\0u@x.test\0pw", &u, &p), -2, "foreign authzid refused (-2)");
	is_int(PLAIN("\0\0pw", &u, &p), -1, "empty authcid");
	is_int(PLAIN("\0u\0", &u, &p), -1, "empty password");
	is_int(PLAIN("\0\0", &u, &p), -1, "all empty");
	is_int(PLAIN("u\0pw", &u, &p), -1, "one NUL");
	is_int(PLAIN("upw", &u, &p), -1, "no NUL");
	is_int(PLAIN("\0u\0p\0w", &u, &p), -1, "three NULs (a\\0b trick)");
	is_int(PLAIN("\0u\r\n\0pw", &u, &p), -1, "CRLF in authcid");
	is_int(PLAIN("\0u\0p\nw", &u, &p), -1, "LF in password");
	is_int(sasl_plain_decode("", 0, &u, &p), -1, "empty response");
	is_int(sasl_plain_decode("=", 1, &u, &p), -1, "'=' response");
	is_int(sasl_plain_decode("AHUAcA=", 7, &u, &p), -1, "bad base64 (short padding)");
	is_int(sasl_plain_decode("AHUAc*==", 8, &u, &p), -1, "bad base64 (stray byte)");
	is_int(sasl_plain_decode("AHUA cA==", 9, &u, &p), -1, "bad base64 (space)");
	ok(sasl_plain_decode("AHUAcA==", 8, &u, &p) == 0 && str_eq(&u, "u") && str_eq(&p, "p"), "literal base64 \\0u\\0p");

	/* fields at and over SASL_FIELD_MAX */
	str_catb(&big, "", 1);
	for (i = 0; i < SASL_FIELD_MAX; i++)
		str_catc(&big, 'u');
	str_catb(&big, "", 1);
	for (i = 0; i < SASL_FIELD_MAX; i++)
		str_catc(&big, 'p');
	ok(plain(big.s, big.len, &u, &p) == 0 && u.len == SASL_FIELD_MAX && p.len == SASL_FIELD_MAX, "fields of exactly SASL_FIELD_MAX accepted");
	str_catc(&big, 'p');
	is_int(plain(big.s, big.len, &u, &p), -1, "password over SASL_FIELD_MAX");
	str_trunc(&big, 0);
	str_catb(&big, "", 1);
	for (i = 0; i <= SASL_FIELD_MAX; i++)
		str_catc(&big, 'u');
	str_catb(&big, "\0pw", 3);
	is_int(plain(big.s, big.len, &u, &p), -1, "authcid over SASL_FIELD_MAX");
	str_trunc(&big, 0);
	for (i = 0; i < 100000; i++)
		str_catc(&big, 'A');
	is_int(sasl_plain_decode(big.s, big.len, &u, &p), -1, "100 kB of base64 refused");
	str_free(&big);
	str_free(&u);
	str_free(&p);
}

int
main(void)
{
	test_plain();
	return done();
}
