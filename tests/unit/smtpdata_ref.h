/* The DATA state machine as it was before its fast path (cmd/smtp-recv/data.c
 * at 9e9ee96), one byte at a time: the reference the unit test and the fuzz
 * target hold the fast one to. Include after data.h. */
#ifndef SMTPDATA_REF_H
#define SMTPDATA_REF_H
#include <string.h>
#include <strings.h>

enum { R_BOL, R_TEXT, R_CR, R_DOT, R_DOTCR };

static void
ref_init(struct smtpdata *d, int dotted, unsigned long long max)
{
	memset(d, 0, sizeof *d);
	d->state = R_BOL;
	d->dotted = dotted;
	d->max = max;
	d->inheader = 1;
}

static int
ref_hdr_is(const struct smtpdata *d, const char *name)
{
	size_t n = strlen(name);
	return d->hdrlen >= n && strncasecmp(d->hdr, name, n) == 0;
}

/* One output byte: size and hop accounting, then the byte itself unless
 * the message is already refused. The limit is on the size RFC 1870 2
 * means, the one SIZE= declares: an LF out was CR LF in. */
static void
ref_emit(struct smtpdata *d, char c, char *out, size_t *o)
{
	unsigned long long wire = d->size + d->lines + 1 + (c == '\n');
	if (d->errors)
		return;
	if (wire > d->max) {
		d->errors |= SMTPDATA_TOOBIG;
		return;
	}
	d->size++;
	d->lines += c == '\n';
	out[(*o)++] = c;
	if (!d->inheader)
		return;
	if (c == '\n') {
		if (d->hdrlen == 0)
			d->inheader = 0;
		else if (ref_hdr_is(d, "received:") || ref_hdr_is(d, "delivered-to:")) {
			if (++d->hops >= SMTPDATA_HOPS_MAX)
				d->errors |= SMTPDATA_HOPS;
		}
		d->hdrlen = 0;
	} else if (d->hdrlen < sizeof d->hdr) {
		d->hdr[d->hdrlen++] = c;
	}
}

static size_t
ref_feed(struct smtpdata *d, const char *in, size_t n, char *out, size_t *outlen)
{
	size_t i, o = *outlen;
	for (i = 0; i < n && !d->done; i++) {
		char c = in[i];
		if (++d->linelen > SMTPDATA_LINE_MAX)
			d->errors |= SMTPDATA_LONGLINE;
		switch (d->state) {
		case R_BOL:
			if (c == '.' && d->dotted) {
				d->linelen = 0;   /* the transparency dot is not counted (RFC 5321 4.5.3.1.6) */
				d->state = R_DOT;
				continue;
			}
			break;
		case R_DOT:
			if (c == '\r') {
				d->state = R_DOTCR;
				continue;
			}
			/* "." then more: the dot is stuffing and goes (RFC 5321 4.5.2) */
			break;
		case R_DOTCR:
			if (c == '\n') {
				d->done = 1;
				d->linelen = 0;
				continue;
			}
			d->errors |= SMTPDATA_BARE;   /* "\r\n.\r" then not LF */
			break;
		case R_CR:
			if (c == '\n') {
				ref_emit(d, '\n', out, &o);
				d->state = R_BOL;
				d->linelen = 0;
				continue;
			}
			d->errors |= SMTPDATA_BARE;   /* a CR not before LF */
			break;
		}
		/* ordinary text: c is not the end of a CRLF pair */
		if (c == '\r') {
			d->state = R_CR;
		} else {
			if (c == '\n')
				d->errors |= SMTPDATA_BARE;   /* never ends a line */
			ref_emit(d, c, out, &o);
			d->state = R_TEXT;
		}
	}
	*outlen = o;
	return i;
}

static void
ref_finish(struct smtpdata *d)
{
	if (d->state == R_CR)
		d->errors |= SMTPDATA_BARE;
}

#endif
