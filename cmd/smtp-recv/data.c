/* Only CR LF "." CR LF ends DATA. A line begins only after CR LF, so a bare
 * LF or CR never starts a line in which a "." could end the message: every
 * smuggling sequence (\n.\n, \r.\r, \n.\r\n, \r\n.\r, ...) stays inside the
 * message, where it is flagged SMTPDATA_BARE and the message refused. */
#include <string.h>
#include <strings.h>
#include "data.h"

enum { S_BOL, S_TEXT, S_CR, S_DOT, S_DOTCR };

void
smtpdata_init(struct smtpdata *d, int dotted, unsigned long long max)
{
	memset(d, 0, sizeof *d);
	d->state = S_BOL;
	d->dotted = dotted;
	d->max = max;
	d->inheader = 1;
}

static int
hdr_is(const struct smtpdata *d, const char *name)
{
	size_t n = strlen(name);
	return d->hdrlen >= n && strncasecmp(d->hdr, name, n) == 0;
}

/* One output byte: size and hop accounting, then the byte itself unless
 * the message is already refused. The limit is on the size RFC 1870 2
 * means, the one SIZE= declares: an LF out was CR LF in. */
static void
emit(struct smtpdata *d, char c, char *out, size_t *o)
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
		else if (hdr_is(d, "received:") || hdr_is(d, "delivered-to:")) {
			if (++d->hops >= SMTPDATA_HOPS_MAX)
				d->errors |= SMTPDATA_HOPS;
		}
		d->hdrlen = 0;
	} else if (d->hdrlen < sizeof d->hdr) {
		d->hdr[d->hdrlen++] = c;
	}
}

/* A run of body bytes with no CR or LF, taken at once: the same output,
 * counts and errors as emit() byte by byte (the byte that crosses the line
 * limit is refused before emit sees it, so whichever limit a byte crosses
 * first sets its error and stops the output), at memchr's speed. Headers go
 * byte by byte: emit() watches them for trace fields. */
static void
emit_run(struct smtpdata *d, const char *p, size_t run, char *out, size_t *o)
{
	size_t room_line, room_size, take;
	unsigned long long used = d->size + d->lines;
	if (!d->errors) {
		room_line = d->linelen < SMTPDATA_LINE_MAX ? SMTPDATA_LINE_MAX - d->linelen : 0;
		room_size = used < d->max ? (d->max - used < run ? (size_t)(d->max - used) : run) : 0;
		take = run < room_line ? run : room_line;
		if (room_size < take) {
			take = room_size;
			d->errors |= SMTPDATA_TOOBIG;
		}
		memcpy(out + *o, p, take);
		*o += take;
		d->size += take;
	}
	d->linelen += run;
	if (d->linelen > SMTPDATA_LINE_MAX)
		d->errors |= SMTPDATA_LONGLINE;
}

size_t
smtpdata_feed(struct smtpdata *d, const char *in, size_t n, char *out, size_t *outlen)
{
	size_t i, o = *outlen;
	for (i = 0; i < n && !d->done; i++) {
		char c = in[i];
		if (!d->inheader && c != '\r' && c != '\n' &&
		    (d->state == S_TEXT || (d->state == S_BOL && !(c == '.' && d->dotted)))) {
			const char *end = memchr(in + i, '\n', n - i), *cr;
			if (!end)
				end = in + n;
			if ((cr = memchr(in + i, '\r', (size_t)(end - (in + i)))))
				end = cr;
			emit_run(d, in + i, (size_t)(end - (in + i)), out, &o);
			d->state = S_TEXT;
			i = (size_t)(end - in) - 1;
			continue;
		}
		if (++d->linelen > SMTPDATA_LINE_MAX)
			d->errors |= SMTPDATA_LONGLINE;
		switch (d->state) {
		case S_BOL:
			if (c == '.' && d->dotted) {
				d->linelen = 0;   /* the transparency dot is not counted (RFC 5321 4.5.3.1.6) */
				d->state = S_DOT;
				continue;
			}
			break;
		case S_DOT:
			if (c == '\r') {
				d->state = S_DOTCR;
				continue;
			}
			/* "." then more: the dot is stuffing and goes (RFC 5321 4.5.2) */
			break;
		case S_DOTCR:
			if (c == '\n') {
				d->done = 1;
				d->linelen = 0;
				continue;
			}
			d->errors |= SMTPDATA_BARE;   /* "\r\n.\r" then not LF */
			break;
		case S_CR:
			if (c == '\n') {
				emit(d, '\n', out, &o);
				d->state = S_BOL;
				d->linelen = 0;
				continue;
			}
			d->errors |= SMTPDATA_BARE;   /* a CR not before LF */
			break;
		}
		/* ordinary text: c is not the end of a CRLF pair */
		if (c == '\r') {
			d->state = S_CR;
		} else {
			if (c == '\n')
				d->errors |= SMTPDATA_BARE;   /* never ends a line */
			emit(d, c, out, &o);
			d->state = S_TEXT;
		}
	}
	*outlen = o;
	return i;
}

void
smtpdata_finish(struct smtpdata *d)
{
	if (d->state == S_CR)
		d->errors |= SMTPDATA_BARE;
}
