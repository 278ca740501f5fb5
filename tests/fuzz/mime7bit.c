/* Fuzz the 7-bit conversion, fed in pieces the first byte sizes: the
 * quoted-printable encoder's output is 7-bit, in lines of 76 at most, and
 * decodes to its input, each lone CR made CRLF; a message converted whole reads, converted
 * again, as one with nothing left to encode (no 8-bit body byte) and
 * as many entities (no delimiter made or lost). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mime.h"
#include "mime7bit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
feed(struct mime7bit *m, const struct mime7bit *plan, const char *in, size_t len, size_t piece, struct str *out)
{
	size_t i;
	mime7bit_init(m, plan);
	for (i = 0; i < len; i += piece)
		if (mime7bit_put(m, in + i, len - i < piece ? len - i : piece, out) < 0)
			abort();
	if (mime7bit_end(m, out) < 0)
		abort();
}

static void
passes(const char *in, size_t len, size_t piece, struct mime7bit *a, struct mime7bit *b, struct str *out)
{
	feed(a, NULL, in, len, piece, NULL);
	if (b)
		feed(b, a, in, len, piece, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime7bit_qp q;
	struct mime7bit a, b, c;
	struct str o = STR_INIT, d = STR_INIT, w = STR_INIT;
	const char *in;
	size_t piece, i, col = 0;
	unsigned k;
	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 23 + 1;
	in = (const char *)data + 1;
	size--;
	mime7bit_qp_init(&q);
	for (i = 0; i < size; i += piece)
		if (mime7bit_qp_put(&q, in + i, size - i < piece ? size - i : piece, &o) < 0)
			abort();
	if (mime7bit_qp_end(&q, &o) < 0)
		abort();
	for (i = 0; i < o.len; i++) {
		unsigned char ch = (unsigned char)o.s[i];
		if (ch >= 0x80 || ch == 0)
			abort();
		col = ch == '\n' ? 0 : col + (ch != '\r');
		if (col > MIME7BIT_QP_LINE)
			abort();
	}
	for (i = 0; i < size; i++)
		if (str_catc(&w, in[i]) < 0 ||
		    (in[i] == '\r' && (i + 1 == size || in[i + 1] != '\n') && str_catc(&w, '\n') < 0))
			abort();
	if (mime_qp_decode(&d, o.s ? o.s : "", o.len, 0) < 0 || d.len != w.len || (w.len && memcmp(d.s, w.s, w.len)))
		abort();
	o.len = 0;
	passes(in, size, piece, &a, &b, &o);
	if (!a.impossible) {
		passes(o.s ? o.s : "", o.len, piece, &c, NULL, NULL);
		if (c.impossible || c.nent != a.nent)
			abort();
		for (k = 0; k < sizeof c.eight; k++)
			if (c.eight[k])
				abort();
		mime7bit_free(&c);
	}
	mime7bit_free(&a);
	mime7bit_free(&b);
	str_free(&o);
	str_free(&d);
	str_free(&w);
	return 0;
}
