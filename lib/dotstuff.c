#include <string.h>
#include "dotstuff.h"

void
dotstuff_init(struct dotstuff *d)
{
	d->bol = 1;
	d->cr = 0;
	d->col = 0;
	d->eightbit = 0;
	d->stuffed = 0;
}

static int
newline(struct dotstuff *d, struct str *out)
{
	d->bol = 1;
	d->col = 0;
	return str_catb(out, "\r\n", 2);
}

/* Bytes go straight into out's reserved room: per input byte at most 4
 * come out (a pending CR's CRLF, a stuffed dot, the byte; or a fold's
 * CRLF SP and the byte), plus 2 for a CR pending from the last call. */
int
dotstuff_put(struct dotstuff *d, const char *in, size_t len, struct str *out)
{
	size_t i = 0;
	char *o;
	if (len > ((size_t)-1 - 4) / 4 || str_readyplus(out, 4 * len + 4) < 0)
		return -1;
	o = out->s + out->len;
	while (i < len) {
		char c = in[i];
		size_t lim, k;
		unsigned char hi = 0;
		if (c == '\n' || d->cr) {   /* a line end; a pending CR was a lone CR */
			d->cr = 0;
			*o++ = '\r';
			*o++ = '\n';
			d->bol = 1;
			d->col = 0;
			if (c == '\n') {
				i++;
				continue;
			}
		}
		if (c == '\r') {
			d->cr = 1;
			i++;
			continue;
		}
		if (d->col >= DOTSTUFF_LINE_MAX) {
			memcpy(o, "\r\n ", 3);
			o += 3;
			d->col = 1;
			d->bol = 0;
		}
		if (d->bol && c == '.') {
			*o++ = '.';
			d->col++;
			d->stuffed++;
		}
		d->bol = 0;
		/* a run of line bytes, up to a CR or LF or the fold; col <
		 * DOTSTUFF_LINE_MAX here, so the run has at least c */
		lim = len - i < DOTSTUFF_LINE_MAX - d->col ? len - i : DOTSTUFF_LINE_MAX - d->col;
		for (k = 0; k < lim && in[i + k] != '\n' && in[i + k] != '\r'; k++)
			hi |= (unsigned char)in[i + k];
		memcpy(o, in + i, k);
		o += k;
		d->col += k;
		i += k;
		if (hi & 0x80)
			d->eightbit = 1;
	}
	out->len = (size_t)(o - out->s);
	out->s[out->len] = 0;
	return 0;
}

int
dotstuff_end(struct dotstuff *d, struct str *out)
{
	if ((d->cr || !d->bol) && newline(d, out) < 0)
		return -1;
	d->cr = 0;
	return str_catb(out, ".\r\n", 3);
}
