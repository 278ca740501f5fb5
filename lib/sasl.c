/* SASL PLAIN (RFC 4616) and LOGIN response decoding. The server dialogue
 * lives in each server; this only turns the client's base64 into
 * user/password. */
#include <string.h>
#include "base64.h"
#include "sasl.h"

static int
field_ok(const char *s, size_t len)
{
	if (len > SASL_FIELD_MAX)
		return 0;
	return !memchr(s, '\r', len) && !memchr(s, '\n', len);
}

static int
same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;
	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

int
sasl_plain_decode(const char *b64, size_t len, struct str *user, struct str *pass)
{
	struct str raw = STR_INIT;
	const char *z, *c, *p, *e, *nul1, *nul2;
	size_t zl, cl, pl;
	int r = -1;
	/* three fields plus two NULs, base64-encoded: anything longer is over a limit */
	if (len > (3 * (size_t)SASL_FIELD_MAX + 2 + 2) / 3 * 4)
		return -1;
	if (base64_decode(&raw, b64, len) < 0 || !raw.s)
		goto out;
	z = raw.s;
	e = raw.s + raw.len;
	nul1 = memchr(z, 0, raw.len);
	if (!nul1)
		goto out;
	c = nul1 + 1;
	nul2 = memchr(c, 0, (size_t)(e - c));
	if (!nul2)
		goto out;
	p = nul2 + 1;
	if (memchr(p, 0, (size_t)(e - p)))
		goto out;
	zl = (size_t)(nul1 - z);
	cl = (size_t)(nul2 - c);
	pl = (size_t)(e - p);
	if (!cl || !pl || !field_ok(z, zl) || !field_ok(c, cl) || !field_ok(p, pl))
		goto out;
	if (str_copyb(user, c, cl) < 0)
		goto out;
	if (zl && !same_ci(z, zl, c, cl)) {
		r = -2;   /* the user is known, for the logs; the password is not handed out */
		goto out;
	}
	if (str_copyb(pass, p, pl) < 0)
		goto out;
	r = 0;
out:
	if (raw.s)
		explicit_bzero(raw.s, raw.cap);
	str_free(&raw);
	return r;
}

int
sasl_login_field(const char *b64, size_t len, struct str *out)
{
	out->len = 0;
	if (base64_decode(out, b64, len) < 0 || out->len == 0 || !field_ok(out->s, out->len)
	    || memchr(out->s, 0, out->len))
		return -1;
	return str_0(out);
}
