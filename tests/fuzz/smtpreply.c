/* Fuzz the SMTP reply parser and the EHLO keyword parser: input split on
 * LF into lines; no crash, bounded text, printable output. Also the
 * dot-stuffing encoder: never a bare CR or LF, and the only CRLF.CRLF is
 * the one that ends the data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dotstuff.h"
#include "smtpreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_wire(const struct str *w)
{
	size_t i;
	for (i = 0; i < w->len; i++) {
		if (w->s[i] == '\r' && (i + 1 >= w->len || w->s[i + 1] != '\n'))
			abort();
		if (w->s[i] == '\n' && (i == 0 || w->s[i - 1] != '\r'))
			abort();
		if (i + 5 <= w->len && memcmp(w->s + i, "\r\n.\r\n", 5) == 0 && i + 5 != w->len)
			abort();
	}
	if (w->len < 3 || memcmp(w->s + w->len - 3, ".\r\n", 3) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	struct smtpreply r;
	struct smtpext e;
	struct str out = STR_INIT;
	struct dotstuff d;
	char enh[SMTPREPLY_ENH_MAX];

	smtpreply_init(&r);
	while (in < end) {
		const char *nl = memchr(in, '\n', (size_t)(end - in));
		size_t n = (size_t)((nl ? nl : end) - in);
		int p = smtpreply_line(&r, in, n);
		if (r.text.len > SMTPREPLY_TEXT_MAX)
			abort();
		if (p != 0) {
			if (p == 1) {
				if (r.code < 200 || r.code > 599)
					abort();
				smtpreply_enhanced(&r, 1, enh);
				if (!smtpreply_isenh(enh, strlen(enh), r.code < 400 ? '2' : (char)('0' + r.code / 100)))
					abort();
				smtpreply_ehlo(&r, &e);
				out.len = 0;
				if (smtpreply_print(&r, &out) < 0)
					abort();
				for (size_t i = 0; i < out.len; i++)
					if ((unsigned char)out.s[i] < ' ')
						abort();
			}
			smtpreply_reset(&r);
		}
		in += n + (nl != NULL);
	}
	smtpreply_free(&r);

	out.len = 0;
	dotstuff_init(&d);
	if (dotstuff_put(&d, (const char *)data, size / 2, &out) < 0 ||
	    dotstuff_put(&d, (const char *)data + size / 2, size - size / 2, &out) < 0 ||
	    dotstuff_end(&d, &out) < 0)
		abort();
	check_wire(&out);
	str_free(&out);
	return 0;
}
