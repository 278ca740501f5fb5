/* Base64 (RFC 4648). The strict decoder is for protocol data where a
 * stray byte means a broken or hostile client; the lenient one follows
 * RFC 2045 for MIME bodies. */
#include <errno.h>
#include <stdint.h>
#include "base64.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* value of an alphabet byte, or -1 */
static int
val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_encode(struct str *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n, i;
	char *o;
	if (len > (SIZE_MAX / 4) * 3 - 3) {
		errno = EOVERFLOW;
		return -1;
	}
	n = (len + 2) / 3 * 4;
	if (str_readyplus(out, n) < 0)
		return -1;
	o = out->s + out->len;
	for (i = 0; i + 3 <= len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		*o++ = b64[v & 63];
	}
	if (len - i == 1) {
		unsigned long v = (unsigned long)p[i] << 16;
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		*o++ = '=';
	}
	out->len += n;
	out->s[out->len] = 0;
	return 0;
}

/* Strict: length a multiple of 4, '=' only as the last one or two bytes,
 * the unused bits before the padding zero (one encoding per value). */
int
base64_decode(struct str *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, olen, pad = 0;
	char *o;
	if (len % 4) {
		errno = EINVAL;
		return -1;
	}
	if (len && p[len - 1] == '=')
		pad = (len >= 2 && p[len - 2] == '=') ? 2 : 1;
	olen = len / 4 * 3 - pad;
	if (str_readyplus(out, olen) < 0)
		return -1;
	o = out->s + out->len;
	for (i = 0; i < len; i += 4) {
		int a = val(p[i]), b = val(p[i + 1]), c, d;
		int last = i + 4 == len;
		unsigned long v;
		if (a < 0 || b < 0)
			goto bad;
		if (last && pad == 2) {
			if (b & 15)
				goto bad;
			*o++ = (char)(a << 2 | b >> 4);
			break;
		}
		c = val(p[i + 2]);
		if (c < 0)
			goto bad;
		if (last && pad == 1) {
			if (c & 3)
				goto bad;
			v = (unsigned long)a << 18 | (unsigned long)b << 12 | (unsigned long)c << 6;
			*o++ = (char)(v >> 16);
			*o++ = (char)(v >> 8 & 255);
			break;
		}
		d = val(p[i + 3]);
		if (d < 0)
			goto bad;
		v = (unsigned long)a << 18 | (unsigned long)b << 12 | (unsigned long)c << 6 | (unsigned long)d;
		*o++ = (char)(v >> 16);
		*o++ = (char)(v >> 8 & 255);
		*o++ = (char)(v & 255);
	}
	out->len += olen;
	out->s[out->len] = 0;
	return 0;
bad:
	out->s[out->len] = 0;
	errno = EINVAL;
	return -1;
}

/* The bytes of a group cut short after n symbols (value v): n 2 or 3
 * yields 1 or 2 bytes, fewer none. */
static char *
partial(char *o, unsigned long v, int n)
{
	if (n == 2) {
		*o++ = (char)(v >> 4 & 255);
	} else if (n == 3) {
		*o++ = (char)(v >> 10 & 255);
		*o++ = (char)(v >> 2 & 255);
	}
	return o;
}

/* Lenient (RFC 2045 6.8): bytes outside the alphabet are skipped, '='
 * after two or three symbols of a group (padding) ends that group, and
 * decoding goes on after it: mailers that join encoded parts write
 * "aGk=aGk=", and mail readers show both halves, so text after a padded
 * line must not be hidden from a filter. A final group of 2 or 3
 * symbols still yields its bytes. An '=' where padding cannot stand (a
 * group's first or second symbol) is skipped like any stray byte, as
 * Python's binascii and mail readers do: "=" before a spam text must
 * not hide it either. */
int
base64_decode_lenient(struct str *out, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned long v = 0;
	int n = 0;
	size_t i;
	char *o;
	if (str_readyplus(out, len / 4 * 3 + 3) < 0)
		return -1;
	o = out->s + out->len;
	for (i = 0; i < len; i++) {
		int x;
		if (p[i] == '=' && n >= 2) {   /* the group ends */
			o = partial(o, v, n);
			n = 0;
			v = 0;
			continue;
		}
		x = val(p[i]);
		if (x < 0)
			continue;
		v = v << 6 | (unsigned long)x;
		if (++n == 4) {
			*o++ = (char)(v >> 16 & 255);
			*o++ = (char)(v >> 8 & 255);
			*o++ = (char)(v & 255);
			n = 0;
			v = 0;
		}
	}
	o = partial(o, v, n);
	out->len = (size_t)(o - out->s);
	out->s[out->len] = 0;
	return 0;
}
