/* Fuzz lib/mime: the walk over any bytes stays within the input and its
 * bounds, every field and parameter parser terminates, decoded headers are
 * free of control bytes. spamcheck's tokeniser and HTML reducer (its
 * heaviest users) run over the same input and must stay within TOK_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mime.h"
#include "../../cmd/spamcheck/html.c"
#include "../../cmd/spamcheck/token.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	const char *base;
	size_t len;
	struct str out;
	/* along the path to the part visited: under a message/rfc822 sent
	 * encoded (its parts point into a decoded copy), and is one */
	unsigned char copied[MIME_DEPTH_MAX], encmsg[MIME_DEPTH_MAX];
};

static int
visit(void *arg, const struct mime_part *p)
{
	struct ctx *c = arg;
	unsigned d = p->depth;
	if (d >= MIME_DEPTH_MAX || p->index >= MIME_PARTS_MAX)
		abort();
	/* parts visited depth-first: the last ones seen at smaller depths
	 * are this one's ancestors */
	c->copied[d] = d > 0 && (c->copied[d - 1] || c->encmsg[d - 1]);
	c->encmsg[d] = !strcmp(p->type, "message") && (p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP);
	if (p->body < p->header + p->headerlen)
		abort();
	if (!c->copied[d] && (p->header < c->base || p->header + p->headerlen > c->base + c->len
	    || p->body < c->base || p->body + p->bodylen > c->base + c->len))
		abort();
	c->out.len = 0;
	if (!p->multipart && mime_body(&c->out, p, 1, 4096) < 0)
		abort();
	c->out.len = 0;
	if (!p->multipart && (mime_body(&c->out, p, 0, 4096) < 0 || c->out.len > 4096))
		abort();   /* undecoded output stays within max */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { (const char *)data, size, STR_INIT, { 0 }, { 0 } };
	struct mime_field f;
	struct str s = STR_INIT;
	size_t hl, bo, pos = 0, i;
	char t[MIME_TYPE_MAX], st[MIME_TYPE_MAX];
	unsigned long scanned = mime_delim_scanned(), opens;
	mime_walk(c.base, size, NULL, visit, &c);
	/* the delimiter search is linear in each level's body (a level at
	 * most MIME_DEPTH_MAX deep), over the message and the decoded copies
	 * of encoded message/rfc822 parts (4 times its size at most), plus
	 * one delimiter per search */
	if (mime_delim_scanned() - scanned > 5 * (unsigned long)(MIME_DEPTH_MAX + 1) * size + 1000UL * 4 * MIME_PARTS_MAX)
		abort();
	mime_split(c.base, size, &hl, &bo);
	while (mime_field_next(c.base, hl, &pos, &f)) {
		s.len = 0;
		opens = mime_iconv_opens();
		if (mime_decode_header(&s, f.value, f.valuelen) < 0 || mime_iconv_opens() - opens > 16 + f.valuelen / 4096)
			abort();   /* converters are opened at a rate bounded by the text read */
		for (i = 0; i < s.len; i++)
			if ((unsigned char)s.s[i] < 32)
				abort();
		mime_ctype(f.value, f.valuelen, t, st);
		if (mime_param(f.value, f.valuelen, "boundary", &s) < 0)
			abort();
		{
			struct str n = STR_INIT, v = STR_INIT;
			size_t p = 0, last = 0;
			int r;
			while ((r = mime_param_next(f.value, f.valuelen, &p, &n, &v)) == 1) {
				if (p <= last && last)
					abort();   /* must make progress */
				last = p;
			}
			if (r < 0 || p > f.valuelen)
				abort();
			str_free(&n);
			str_free(&v);
		}
	}
	{
		static struct toks t;   /* reused across runs like a classifier's */
		if (tokenize(&t, c.base, size) < 0 || t.n > TOK_MAX)
			abort();
	}
	str_free(&s);
	str_free(&c.out);
	return 0;
}
