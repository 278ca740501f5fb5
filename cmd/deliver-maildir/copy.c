/* The streaming part of deliver-maildir: envelope lines on top, then the
 * message with CRLF turned into LF, through two fixed buffers, so memory
 * stays constant whatever the message size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "buf.h"
#include "deliver.h"

enum {
	IN_SIZE = 65536,
	OUT_SIZE = 65536,
	HLINE_MAX = 1024   /* header bytes kept per line for the loop check */
};

static int
cat_clean(struct str *out, const char *v, size_t n)
{
	size_t i;
	while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))   /* DTLINE ends with one */
		n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (str_catc(out, (c < 0x20 && c != '\t') || c == 0x7f ? '_' : (char)c) < 0)
			return -1;
	}
	return 0;
}

int
envelope_lines(struct str *top, struct str *dt)
{
	const char *sender = getenv("SENDER");
	const char *rcpt = getenv("RECIPIENT");
	const char *dtline = getenv("DTLINE");
	str_trunc(top, 0);
	str_trunc(dt, 0);
	if (sender && (str_cats(top, "Return-Path: <") < 0 || cat_clean(top, sender, strlen(sender)) < 0
	    || str_cats(top, ">\n") < 0))
		return -1;
	if (dtline && *dtline) {
		if (cat_clean(dt, dtline, strlen(dtline)) < 0)
			return -1;
	} else if (rcpt) {
		if (str_cats(dt, "Delivered-To: ") < 0 || cat_clean(dt, rcpt, strlen(rcpt)) < 0)
			return -1;
	}
	if (dt->len && str_catc(dt, '\n') < 0)
		return -1;
	return str_catb(top, dt->s, dt->len) < 0 || str_0(top) < 0 || str_0(dt) < 0 ? -1 : 0;
}

/* "Name: value" -> name and trimmed value, for a case-insensitive compare */
static int
split_field(const char *s, size_t n, size_t *namelen, const char **val, size_t *vallen)
{
	const char *colon = memchr(s, ':', n);
	const char *v, *end = s + n;
	if (!colon)
		return -1;
	*namelen = (size_t)(colon - s);
	while (*namelen && (s[*namelen - 1] == ' ' || s[*namelen - 1] == '\t'))
		(*namelen)--;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*val = v;
	*vallen = (size_t)(end - v);
	return 0;
}

static int
same_field(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t an, bn, av, bv;
	const char *avp, *bvp;
	if (split_field(a, alen, &an, &avp, &av) < 0 || split_field(b, blen, &bn, &bvp, &bv) < 0)
		return 0;
	return an == bn && av == bv && strncasecmp(a, b, an) == 0 && strncasecmp(avp, bvp, av) == 0;
}

struct copier {
	int out;
	char *o;
	size_t olen;
	int in_header;
	size_t hlen;         /* bytes of the current header line seen */
	char hline[HLINE_MAX];
	const struct str *dt;
	int loop;
	struct copy_result *r;
};

static int
flush_out(struct copier *c)
{
	size_t n = c->olen;
	c->olen = 0;
	return buf_writeall(c->out, c->o, n, 0, 0);
}

/* one output byte; the header is watched line by line for dt */
static int
emit(struct copier *c, char ch)
{
	if (c->olen == OUT_SIZE && flush_out(c) < 0)
		return -1;
	c->o[c->olen++] = ch;
	c->r->size++;
	c->r->vsize += ch == '\n' ? 2 : 1;
	if (!c->in_header)
		return 0;
	if (ch != '\n') {
		if (c->hlen < HLINE_MAX)
			c->hline[c->hlen] = ch;
		c->hlen++;
		return 0;
	}
	if (c->hlen == 0)
		c->in_header = 0;   /* the blank line ends the header */
	else if (c->dt->len && c->hlen <= HLINE_MAX && same_field(c->hline, c->hlen, c->dt->s, c->dt->len))
		c->loop = 1;
	c->hlen = 0;
	return 0;
}

int
copy_message(int in, int out, const struct str *top, const struct str *dt, struct copy_result *r)
{
	struct copier c = { .out = out, .in_header = 1, .dt = dt, .r = r };
	char *ibuf = malloc(IN_SIZE);
	int cr = 0, ret = COPY_OK;
	size_t i;

	r->size = r->vsize = 0;
	c.o = malloc(OUT_SIZE);
	if (!ibuf || !c.o) {
		ret = COPY_WRITE;
		goto done;
	}
	/* the envelope lines count in size and vsize but not in the header watch */
	c.in_header = 0;
	for (i = 0; i < top->len; i++)
		if (emit(&c, top->s[i]) < 0) {
			ret = COPY_WRITE;
			goto done;
		}
	c.in_header = 1;
	for (;;) {
		ssize_t n = read(in, ibuf, IN_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = COPY_READ;
			goto done;
		}
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			char ch = ibuf[i];
			/* a CR is held back until the next byte shows it is not part of CRLF */
			if (cr) {
				cr = 0;
				if (ch != '\n' && emit(&c, '\r') < 0)
					goto werr;
			}
			if (ch == '\r') {
				cr = 1;
				continue;
			}
			if (emit(&c, ch) < 0)
				goto werr;
			if (c.loop) {
				ret = COPY_LOOP;
				goto done;
			}
		}
	}
	if (cr && emit(&c, '\r') < 0)
		goto werr;
	if (flush_out(&c) < 0)
		goto werr;
	goto done;
werr:
	ret = COPY_WRITE;
done:
	{
		int e = errno;
		free(ibuf);
		free(c.o);
		errno = e;
	}
	return ret;
}
