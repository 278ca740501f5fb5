/* Unit tests for base64: RFC 4648 vectors, strict refusals, lenient MIME. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base64.h"
#include "tap.h"

static const char *vec[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void
test_vectors(void)
{
	size_t i;
	for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		struct str s = STR_INIT, d = STR_INIT;
		ok(base64_encode(&s, vec[i][0], strlen(vec[i][0])) == 0, "encode");
		is_str(s.s, vec[i][1], "encode matches RFC 4648");
		ok(base64_decode(&d, vec[i][1], strlen(vec[i][1])) == 0, "decode");
		is_mem(d.s, d.len, vec[i][0], strlen(vec[i][0]), "decode matches RFC 4648");
		str_free(&s);
		str_free(&d);
	}
}

static void
test_binary(void)
{
	char all[256];
	struct str e = STR_INIT, d = STR_INIT, l = STR_INIT;
	int i;
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	ok(base64_encode(&e, all, sizeof all) == 0, "encode 256 bytes");
	ok(base64_decode(&d, e.s, e.len) == 0 && d.len == 256 && memcmp(d.s, all, 256) == 0, "strict round trip, NUL bytes kept");
	ok(base64_decode_lenient(&l, e.s, e.len) == 0 && l.len == 256 && memcmp(l.s, all, 256) == 0, "lenient round trip");
	str_free(&e);
	str_free(&d);
	str_free(&l);
}

static void
test_strict_refusals(void)
{
	static const char *bad[] = {
		"Zg=", "Zg", "Z", "Zm9", "Zm9v\r\n", "Zm 9v", "Zm9v\n", "====", "Z===", "Zg==Zg==",
		"Zm=v", "Zh==", "Zm9=", "Zm9vYmFy=", "Zm9v\0YmFy", "Zm-v", "Zm_v", "=Zm9",
	};
	size_t i;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct str d = STR_INIT;
		size_t len = strlen(bad[i]);
		if (i == 14)
			len = 9;   /* with the embedded NUL */
		str_copys(&d, "keep");
		errno = 0;
		ok(base64_decode(&d, bad[i], len) < 0 && errno == EINVAL, bad[i]);
		ok(d.len == 4 && memcmp(d.s, "keep", 4) == 0, "output untouched on refusal");
		str_free(&d);
	}
}

static void
test_lenient(void)
{
	struct str d = STR_INIT;
	ok(base64_decode_lenient(&d, "Zm9v\r\nYm\tFy\r\n", 14) == 0, "lenient skips whitespace");
	is_mem(d.s, d.len, "foobar", 6, "lenient value");
	str_trunc(&d, 0);
	ok(base64_decode_lenient(&d, "Zm9v!!Yg==!!", 12) == 0, "lenient skips junk around padding");
	is_mem(d.s, d.len, "foob", 4, "lenient padding");
	str_trunc(&d, 0);
	ok(base64_decode_lenient(&d, "Zm9vYmE", 7) == 0, "lenient missing padding");
	is_mem(d.s, d.len, "fooba", 5, "lenient partial group");
	str_trunc(&d, 0);
	ok(base64_decode_lenient(&d, "", 0) == 0 && d.len == 0, "lenient empty");
	str_free(&d);
}

/* Decoding stopped at the first padding, so the rest of joined blocks
 * ("aGk=aGk=", or a padded line followed by more lines) was dropped
 * unseen: text hidden from a filter that mail readers show. */
static void
test_lenient_joined(void)
{
	static const char *const v[][2] = {
		{ "aGk=aGk=", "hihi" },
		{ "Zm9vYg==\r\nYmFy\r\n", "foobbar" },
		{ "Zm9vYmE=\nZm9vYg==\nZm9v", "foobafoobfoo" },
		{ "Zg====Zm8=", "ffo" },
		{ "Zm9vYg==junk", "foob\x8e\xe9\xe4" },
		{ "Zm9v=Zm9v", "foofoo" },
	};
	char name[64];
	size_t i;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct str d = STR_INIT;
		snprintf(name, sizeof name, "lenient decodes on after padding (case %zu)", i);
		ok(base64_decode_lenient(&d, v[i][0], strlen(v[i][0])) == 0, "lenient decodes joined blocks");
		is_mem(d.s, d.len, v[i][1], strlen(v[i][1]), name);
		str_free(&d);
	}
}

int
main(void)
{
	test_vectors();
	test_binary();
	test_strict_refusals();
	test_lenient();
	test_lenient_joined();
	return done();
}
