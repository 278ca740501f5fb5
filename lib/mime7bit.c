/* 7-bit MIME conversion (mime7bit.h): a line-based state machine over
 * the entity tree, one header section held at a time. */
#include <string.h>
#include <strings.h>
#include "base64.h"
#include "mime7bit.h"

enum { M7_HEAD, M7_RAW, M7_LEAF };             /* mode */
enum { ENC_NONE, ENC_QP, ENC_B64 };            /* enc */
enum { NOENT = MIME_PARTS_MAX };

static const char hexd[] = "0123456789ABCDEF";

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

void
mime7bit_qp_init(struct mime7bit_qp *q)
{
	q->col = 0;
	q->soft = 0;
	q->blank = 0;
	q->cr = 0;
}

/* One character of output, encoded when enc or when it must be: a soft
 * break first when it would not fit (the "=" takes the last column). */
static int
qp_char(struct mime7bit_qp *q, unsigned char c, int enc, struct str *out)
{
	char t[3];
	size_t w;
	for (;;) {
		int lit = !enc && ((c > 32 && c < 127 && c != '=') || is_wsp(c)) &&
		    !(q->col == 0 && (c == '.' || c == 'F' || (c == '-' && q->soft)));
		w = lit ? 1 : 3;
		t[0] = lit ? (char)c : '=';
		t[1] = hexd[c >> 4];
		t[2] = hexd[c & 15];
		if (q->col + w < MIME7BIT_QP_LINE)
			break;
		if (str_catb(out, "=\r\n", 3) < 0)
			return -1;
		q->col = 0;
		q->soft = 1;
	}
	q->col += w;
	return str_catb(out, t, w);
}

static int
qp_break(struct mime7bit_qp *q, const char *t, size_t n, struct str *out)
{
	q->col = 0;
	q->soft = 0;
	return str_catb(out, t, n);
}

int
mime7bit_qp_put(struct mime7bit_qp *q, const char *in, size_t len, struct str *out)
{
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (q->blank) {
			/* a blank before a CR may end its line: encoded (6.7 (3)) */
			if (qp_char(q, (unsigned char)q->blank, c == '\r' || c == '\n', out) < 0)
				return -1;
			q->blank = 0;
		}
		if (q->cr) {
			/* CRLF, or a lone CR: a line end either way, as the
			 * unconverted path makes it (dotstuff.h) */
			q->cr = 0;
			if (qp_break(q, "\r\n", 2, out) < 0)
				return -1;
			if (c == '\n')
				continue;
		}
		if (is_wsp(c))
			q->blank = c;
		else if (c == '\r')
			q->cr = 1;
		else if (c == '\n') {
			if (qp_break(q, "\n", 1, out) < 0)
				return -1;
		} else if (qp_char(q, c, 0, out) < 0)
			return -1;
	}
	return 0;
}

int
mime7bit_qp_end(struct mime7bit_qp *q, struct str *out)
{
	if (q->blank && qp_char(q, (unsigned char)q->blank, 1, out) < 0)
		return -1;
	q->blank = 0;
	if (q->cr && qp_break(q, "\r\n", 2, out) < 0)
		return -1;
	q->cr = 0;
	return 0;
}

static int
b64_line(struct mime7bit_b64 *b, struct str *out)
{
	if (!b->n)
		return 0;
	if (base64_encode(out, (const char *)b->in, b->n) < 0 || str_catb(out, "\r\n", 2) < 0)
		return -1;
	b->n = 0;
	b->wrote = 1;
	return 0;
}

static int
b64_put(struct mime7bit_b64 *b, const char *in, size_t len, struct str *out)
{
	while (len) {
		size_t k = sizeof b->in - b->n < len ? sizeof b->in - b->n : len;
		memcpy(b->in + b->n, in, k);
		b->n += k;
		in += k;
		len -= k;
		if (b->n == sizeof b->in && b64_line(b, out) < 0)
			return -1;
	}
	return 0;
}

void
mime7bit_init(struct mime7bit *m, const struct mime7bit *plan)
{
	memset(m, 0, sizeof *m);
	m->plan = plan;
	m->mode = M7_HEAD;
	m->msghdr = 1;
	m->ent = NOENT;
	m->hdr = (struct str)STR_INIT;
}

void
mime7bit_free(struct mime7bit *m)
{
	str_free(&m->hdr);
}

static int
emit(const struct mime7bit *m, struct str *out, const char *p, size_t n)
{
	return m->plan ? str_catb(out, p, n) : 0;
}

static int
need(const struct mime7bit *m, unsigned ent)
{
	return ent < NOENT && m->plan && (m->plan->eight[ent / 8] >> (ent % 8) & 1);
}

/* body bytes of the current entity */
static int
sink(struct mime7bit *m, const char *p, size_t n, struct str *out)
{
	if (!m->plan) {
		if (str_8bit(p, n)) {
			if (m->mode == M7_LEAF && m->ent < NOENT)
				m->eight[m->ent / 8] |= (unsigned char)(1u << (m->ent % 8));
			else
				m->impossible = 1;
		}
		return 0;
	}
	if (m->enc == ENC_QP)
		return mime7bit_qp_put(&m->qp, p, n, out);
	if (m->enc == ENC_B64)
		return b64_put(&m->b64, p, n, out);
	return str_catb(out, p, n);
}

static int
flush_term(struct mime7bit *m, struct str *out)
{
	size_t n = m->termlen;
	m->termlen = 0;
	return n ? sink(m, m->term, n, out) : 0;
}

/* The body ends: at a delimiter (the held line end is the delimiter's)
 * or at the input's end (it is the body's). */
static int
body_end(struct mime7bit *m, int eof, struct str *out)
{
	int r = 0;
	if (eof && flush_term(m, out) < 0)
		return -1;
	if (m->plan && m->enc == ENC_QP)
		r = mime7bit_qp_end(&m->qp, out);
	else if (m->plan && m->enc == ENC_B64) {
		r = b64_line(&m->b64, out);
		if (m->b64.wrote)
			m->termlen = 0;   /* the last base64 line ended already */
	}
	if (r == 0 && m->termlen)
		r = emit(m, out, m->term, m->termlen);
	m->termlen = 0;
	m->enc = ENC_NONE;
	return r;
}

/* A header field's name and colon (RFC 5322 2.2, obsolete "Name :" too) */
static int
is_field(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] != ':' && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127)
		i++;
	if (i == 0)
		return 0;
	while (i < n && is_wsp((unsigned char)p[i]))
		i++;
	return i < n && p[i] == ':';
}

static int
name_is(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && strncasecmp(p, name, k) == 0 && (p[k] == ':' || is_wsp((unsigned char)p[k]));
}

/* The header section, with the Content-Transfer-Encoding field made cte
 * (NULL: as it is), MIME-Version added when mimever and a Content-Type
 * field when ctype is not NULL. */
static int
put_header(struct mime7bit *m, const char *cte, int mimever, const char *ctype, struct str *out)
{
	const char *h = m->hdr.s ? m->hdr.s : "";
	size_t n = m->hdr.len, i = 0;
	int r = 0;
	if (!cte && !mimever && !ctype)
		return emit(m, out, h, n);
	m->changed = 1;
	while (i < n && r == 0) {
		/* one field: its line and the continuation lines after it */
		size_t e = i;
		do {
			const char *nl = memchr(h + e, '\n', n - e);
			e = nl ? (size_t)(nl - h) + 1 : n;
		} while (e < n && is_wsp((unsigned char)h[e]));
		if (!(cte && name_is(h + i, e - i, "Content-Transfer-Encoding")))
			r = str_catb(out, h + i, e - i);
		i = e;
	}
	if (r == 0 && n && h[n - 1] != '\n')
		r = str_catb(out, "\r\n", 2);   /* a header cut off by the input's end */
	if (r == 0 && mimever)
		r = str_cats(out, "MIME-Version: 1.0\r\n");
	if (r == 0 && ctype)
		r = str_cats(out, ctype);
	if (r == 0 && cte) {
		r = str_cats(out, "Content-Transfer-Encoding: ");
		if (r == 0)
			r = str_cats(out, cte);
		if (r == 0)
			r = str_catb(out, "\r\n", 2);
	}
	return r;
}

/* The message types RFC 6532 3.7 and RFC 6533 (3, 5, 6) let carry
 * quoted-printable or base64, unlike message/rfc822 (RFC 2046 5.2.1):
 * their UTF-8 header fields have no 7-bit form, so they are encoded
 * whole, as a leaf, never entered. */
static int
encodable_message(const char *sub)
{
	return !strcmp(sub, "global") || !strcmp(sub, "global-headers") ||
	    !strcmp(sub, "global-delivery-status") || !strcmp(sub, "global-disposition-notification");
}

/* The header section is complete: what the entity is, how its body goes. */
static int
header_end(struct mime7bit *m, struct str *out)
{
	const char *h = m->hdr.s ? m->hdr.s : "";
	size_t n = m->hdr.len;
	struct mime_field f;
	struct str bnd = STR_INIT;
	char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];
	int cte = MIME_CTE_7BIT, hascte, plain, r, ent = m->nent < NOENT ? (int)m->nent : NOENT;
	const char *newcte = NULL;
	int open = m->open;
	m->open = 0;
	m->nent += m->nent < NOENT;
	strcpy(type, m->digest ? "message" : "text");
	strcpy(sub, m->digest ? "rfc822" : "plain");
	hascte = mime_field_find(h, n, "Content-Transfer-Encoding", &f);
	if (hascte)
		cte = mime_cte(f.value, f.valuelen);
	plain = cte == MIME_CTE_7BIT || cte == MIME_CTE_8BIT || cte == MIME_CTE_BINARY;
	if (mime_field_find(h, n, "Content-Type", &f)) {
		char t[MIME_TYPE_MAX], s[MIME_TYPE_MAX];
		if (mime_ctype(f.value, f.valuelen, t, s) == 0) {
			memcpy(type, t, sizeof t);
			memcpy(sub, s, sizeof s);
		}
		if (!strcmp(type, "multipart") && mime_param(f.value, f.valuelen, "boundary", &bnd) < 0) {
			str_free(&bnd);
			return -1;
		}
	}
	m->mode = M7_RAW;
	m->enc = ENC_NONE;
	m->ent = NOENT;
	if (!strcmp(type, "multipart") && bnd.len >= 1 && bnd.len <= MIME7BIT_BOUNDARY_MAX &&
	    !memchr(bnd.s, '\n', bnd.len) && !memchr(bnd.s, '\r', bnd.len) &&
	    m->nlev < MIME_DEPTH_MAX && m->depth + 1 < MIME_DEPTH_MAX && plain) {
		struct mime7bit_level *l = &m->lev[m->nlev++];
		memcpy(l->bnd, bnd.s, bnd.len);
		l->blen = bnd.len;
		l->depth = m->depth;
		l->digest = !strcmp(sub, "digest");
		if (cte != MIME_CTE_7BIT)
			newcte = "7bit";
		r = put_header(m, m->plan ? newcte : NULL, 0, NULL, out);   /* the preamble follows, copied */
	} else if (!strcmp(type, "message") && !strcmp(sub, "rfc822") && plain && m->depth + 1 < MIME_DEPTH_MAX) {
		if (cte != MIME_CTE_7BIT)
			newcte = "7bit";
		r = put_header(m, m->plan ? newcte : NULL, 0, NULL, out);
		m->open = 1;
		m->hdr.len = 0;
		m->mode = M7_HEAD;   /* the message inside */
		m->depth++;
		m->digest = 0;
		m->msghdr = 1;
		str_free(&bnd);
		return r;
	} else if (strcmp(type, "multipart") && (strcmp(type, "message") || encodable_message(sub)) && plain &&
	    ent < NOENT) {
		int conv = need(m, (unsigned)ent);
		m->mode = M7_LEAF;
		m->ent = (unsigned)ent;
		if (conv) {
			m->enc = cte == MIME_CTE_BINARY ? ENC_B64 : ENC_QP;
			newcte = m->enc == ENC_B64 ? "base64" : "quoted-printable";
			mime7bit_qp_init(&m->qp);
			m->b64.n = 0;
			m->b64.wrote = 0;
		}
		/* fields for the empty header of a message/rfc822 whose own
		 * header ended at a line that is no field would join that
		 * header: the empty line between goes first */
		r = conv && open && n == 0 ? emit(m, out, "\r\n", 2) : 0;
		/* 8-bit text with no Content-Type is in no charset a reader could
		 * know once it is encoded (it would read it as us-ascii): RFC
		 * 1428's label for just-send-8 mail says so */
		if (r == 0)
			r = put_header(m, newcte, conv && m->msghdr && !mime_field_find(h, n, "MIME-Version", &f),
			               conv && !mime_field_find(h, n, "Content-Type", &f) ?
			               "Content-Type: text/plain; charset=unknown-8bit\r\n" : NULL, out);
	} else
		r = put_header(m, NULL, 0, NULL, out);
	m->hdr.len = 0;
	str_free(&bnd);
	return r;
}

/* Does a whole line delimit an enclosing multipart's part? The level
 * (innermost first: an inner one left unterminated ends at an outer
 * delimiter, as mail readers take it), and whether it closes. */
static int
delimiter(const struct mime7bit *m, const char *p, size_t n, size_t *lev, int *close)
{
	size_t k = m->nlev;
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return 0;
	while (k-- > 0) {
		const struct mime7bit_level *l = &m->lev[k];
		size_t e = 2 + l->blen;
		if (n < e || memcmp(p + 2, l->bnd, l->blen) != 0)
			continue;
		*close = n >= e + 2 && p[e] == '-' && p[e + 1] == '-';
		e += *close ? 2 : 0;
		while (e < n && (is_wsp((unsigned char)p[e]) || p[e] == '\r'))
			e++;
		if (e == n) {
			*lev = k;
			return 1;
		}
	}
	return 0;
}

/* A piece of a line: its start (first), its end (term set, or the
 * input's end), or a whole line. */
static int
piece(struct mime7bit *m, const char *p, size_t n, int first, const char *term, size_t tl, int last,
    struct str *out)
{
	size_t lev;
	int close;
	if (first && last && m->nlev && delimiter(m, p, n, &lev, &close)) {
		if (m->mode == M7_HEAD && header_end(m, out) < 0)
			return -1;
		/* still M7_HEAD: a message/rfc822 with nothing inside */
		if (m->mode != M7_HEAD && body_end(m, 0, out) < 0)
			return -1;
		if (emit(m, out, p, n) < 0 || emit(m, out, term, tl) < 0)
			return -1;
		m->nlev = close ? lev : lev + 1;
		m->hdr.len = 0;
		m->enc = ENC_NONE;
		if (close) {
			m->mode = M7_RAW;   /* the epilogue */
			m->ent = NOENT;
		} else {
			m->mode = M7_HEAD;
			m->depth = m->lev[lev].depth + 1;
			m->digest = m->lev[lev].digest;
			m->msghdr = 0;
		}
		return 0;
	}
	if (m->mode == M7_HEAD && first) {
		if (n == 0 && last) {
			/* the empty line: the body (or a message/rfc822's header) starts after it */
			if (header_end(m, out) < 0)
				return -1;
			m->open = 0;
			return emit(m, out, term, tl);
		}
		/* a line that is no field ends the header and starts the body
		 * (again for each message/rfc822 it leaves empty: bounded by
		 * the depth) */
		while (m->mode == M7_HEAD && !is_wsp((unsigned char)p[0]) && !is_field(p, n))
			if (header_end(m, out) < 0)
				return -1;
	}
	if (m->mode == M7_HEAD) {
		/* a lone CR ending a header line is held as the CRLF the wire
		 * makes of it, so the field after it is read as one (mime.h) */
		if (tl == 1 && term[0] == '\r') {
			term = "\r\n";
			tl = 2;
		}
		if (m->hdr.len + n + tl <= MIME7BIT_HEADER_MAX)
			return str_catb(&m->hdr, p, n) < 0 || str_catb(&m->hdr, term, tl) < 0 ? -1 : 0;
		/* too long to read: copied as it comes */
		if (emit(m, out, m->hdr.s ? m->hdr.s : "", m->hdr.len) < 0)
			return -1;
		m->hdr.len = 0;
		m->mode = M7_RAW;
		m->ent = NOENT;
	}
	if (first && flush_term(m, out) < 0)
		return -1;
	if (sink(m, p, n, out) < 0)
		return -1;
	if (last) {
		memcpy(m->term, term, tl);
		m->termlen = tl;
	}
	return 0;
}

int
mime7bit_put(struct mime7bit *m, const char *in, size_t len, struct str *out)
{
	size_t i = 0;
	while (i < len) {
		size_t e, k;
		int nl;
		/* a CR not before LF ends its line, as it does on the wire
		 * (dotstuff.h): else a delimiter after it, which the peer
		 * sees, would be body here */
		if (m->linelen && m->line[m->linelen - 1] == '\r' && in[i] != '\n') {
			if (piece(m, m->line, m->linelen - 1, !m->inline_, "\r", 1, 1, out) < 0)
				return -1;
			m->linelen = 0;
			m->inline_ = 0;
			continue;
		}
		/* up to an LF, or just past a CR that no LF follows */
		for (e = i; e < len && in[e] != '\n'; e++)
			if (in[e] == '\r' && e + 1 < len && in[e + 1] != '\n') {
				e++;
				break;
			}
		nl = e < len && in[e] == '\n';
		/* the line's start is held until it ends or fills the buffer */
		while (i < e) {
			k = sizeof m->line - m->linelen;
			if (k > e - i)
				k = e - i;
			memcpy(m->line + m->linelen, in + i, k);
			m->linelen += k;
			i += k;
			if (m->linelen == sizeof m->line) {
				/* a long line: no delimiter, goes on in pieces; a CR
				 * at the end may start the line end, so it waits */
				size_t keep = m->line[m->linelen - 1] == '\r';
				if (piece(m, m->line, m->linelen - keep, !m->inline_, NULL, 0, 0, out) < 0)
					return -1;
				m->inline_ = 1;
				m->line[0] = '\r';
				m->linelen = keep;
			}
		}
		if (nl) {
			size_t cr = m->linelen && m->line[m->linelen - 1] == '\r';
			if (piece(m, m->line, m->linelen - cr, !m->inline_, cr ? "\r\n" : "\n", 1 + cr, 1, out) < 0)
				return -1;
			m->linelen = 0;
			m->inline_ = 0;
			i = e + 1;
		}
	}
	return 0;
}

int
mime7bit_end(struct mime7bit *m, struct str *out)
{
	if ((m->linelen || m->inline_) && piece(m, m->line, m->linelen, !m->inline_, "", 0, 1, out) < 0)
		return -1;
	m->linelen = 0;
	m->inline_ = 0;
	if (m->mode == M7_HEAD) {
		if (header_end(m, out) < 0)
			return -1;
		if (m->mode == M7_HEAD)
			return 0;
	}
	return body_end(m, 1, out);
}
