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

int
dotstuff_put(struct dotstuff *d, const char *in, size_t len, struct str *out)
{
	size_t i;
	/* worst case per byte: CRLF for a pending CR, a fold, a stuffed dot */
	if (len > ((size_t)-1 - 4) / 4 || str_readyplus(out, 4 * len + 4) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		char c = in[i];
		if (c == '\n') {
			d->cr = 0;
			if (newline(d, out) < 0)
				return -1;
			continue;
		}
		if (d->cr) {   /* the pending CR was a lone CR */
			d->cr = 0;
			if (newline(d, out) < 0)
				return -1;
		}
		if (c == '\r') {
			d->cr = 1;
			continue;
		}
		if ((unsigned char)c >= 0x80)
			d->eightbit = 1;
		if (d->col >= DOTSTUFF_LINE_MAX) {
			if (str_catb(out, "\r\n ", 3) < 0)
				return -1;
			d->col = 1;
			d->bol = 0;
		}
		if (d->bol && c == '.') {
			if (str_catc(out, '.') < 0)
				return -1;
			d->col++;
			d->stuffed++;
		}
		d->bol = 0;
		if (str_catc(out, c) < 0)
			return -1;
		d->col++;
	}
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
