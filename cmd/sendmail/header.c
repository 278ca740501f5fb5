/* The header section: field by field, folded lines joined for the
 * address parser, Bcc dropped from what is written. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include "addrlist.h"
#include "sendmail.h"

/* white space before the colon is RFC 5322's obsolete syntax (4.5), still
 * written by scripts: "Bcc :" is a Bcc field all the same */
static size_t
colon_after(const char *l, size_t n, size_t i)
{
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < n && l[i] == ':' ? i : 0;
}

static int
named(const char *l, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && strncasecmp(l, name, k) == 0 && colon_after(l, n, k) > 0;
}

/* index of the colon if l starts a header field, else 0 */
static size_t
fieldname(const char *l, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c == ':')
			return i;
		if (c == ' ' || c == '\t')
			return i ? colon_after(l, n, i) : 0;
		if (c < ' ' || c >= 0x7f)
			return 0;
	}
	return 0;
}

static int
dotline(const struct str *l)
{
	return l->len == 1 && l->s[0] == '.';
}

/* A line into line, LF stripped, as buf_getline reads it; but of one
 * longer than max, only max + 1 bytes are read (BUF_TOOLONG), the rest
 * left in the input: it may be the body's first line, to stream on. */
static int
getline_max(struct buf *in, struct str *line, size_t max)
{
	line->len = 0;
	for (;;) {
		char c;
		ssize_t r = buf_read(in, &c, 1);
		if (r < 0)
			return BUF_ERR;
		if (r == 0)
			return line->len ? BUF_PARTIAL : BUF_EOF;
		if (c == '\n')
			return BUF_LINE;
		if (str_catc(line, c) < 0)
			return BUF_ERR;
		if (line->len > max)
			return BUF_TOOLONG;
	}
}

static int
flush_field(struct headers *h, struct str *val, int resent)
{
	if (val->len && addrlist_parse(val->s, val->len, resent ? &h->resent : &h->rcpts,
	    resent ? &h->nresent : &h->nrcpt) < 0)
		return -1;
	val->len = 0;
	return 0;
}

/* Bcc and Resent-Bcc are never written (with or without -t); with -t, To,
 * Cc and Bcc supply recipients, or, when the message is being resent (it
 * has Resent- fields, RFC 5322 3.6.6), Resent-To, Resent-Cc and
 * Resent-Bcc only, as sendmail does: the original recipients have it. */
int
headers_read(struct buf *in, int tflag, int iflag, struct headers *h)
{
	struct str raw = STR_INIT, line = STR_INIT, val = STR_INIT;
	int parse = 0, drop = 0, resent = 0, ret = EX_DATAERR, top = 1, g = BUF_EOF, more = 0;
	size_t seg = 0, off = 0;   /* raw[seg..off) is this line, raw[off..) the rest */
	for (;;) {
		const char *cr;
		size_t n = 0;
		if (!more) {
			g = getline_max(in, &raw, HEADER_LINE_MAX);
			if (g == BUF_ERR) {
				ret = errno == ENOMEM ? EX_TEMPFAIL : EX_IOERR;
				goto out;
			}
			if (g == BUF_TOOLONG) {
				/* one that starts no field and continues none is the
				 * body (a script's long first line): streamed on */
				if (fieldname(raw.s, raw.len) > 0 ||
				    ((raw.s[0] == ' ' || raw.s[0] == '\t') && (h->out.len || drop)))
					goto out;
				h->first_open = raw.s[raw.len - 1] == '\r' ? BODY_MID_CR : BODY_MID;
				if (str_copyb(&h->first, raw.s, raw.len - (h->first_open == BODY_MID_CR)) < 0)
					goto nomem;
				break;
			}
			if (g == BUF_EOF)
				break;
			/* CR CR LF too (a text-mode writer's CRLF) ends the line,
			 * not an empty one after a lone CR */
			while (raw.len && raw.s[raw.len - 1] == '\r')
				raw.len--;
			off = 0;
		}
		/* a lone CR ends a header line too: smtp-send takes it for a
		 * line end (lib/dotstuff), so "Subject: x\rBcc: y" read as one
		 * field here kept that Bcc, unread by -t, and sent it out */
		seg = off;
		cr = raw.len > off ? memchr(raw.s + off, '\r', raw.len - off) : NULL;
		off = cr ? (size_t)(cr - raw.s) : raw.len;
		line.len = 0;
		if (off > seg && str_copyb(&line, raw.s + seg, off - seg) < 0)
			goto nomem;   /* (an empty first line has no raw.s yet) */
		more = cr != NULL;
		off += more;
		/* an mbox "From " line on top (a message saved from a mailbox, or
		 * what some scripts write): dropped, as sendmail drops it; taken
		 * for a body line it would make the whole header body text */
		if (top && line.len >= 5 && memcmp(line.s, "From ", 5) == 0) {
			top = 0;
			if (g == BUF_PARTIAL && !more)
				break;
			continue;
		}
		top = 0;
		if (!iflag && !more && seg == 0 && dotline(&line)) {
			h->ended = 1;
			break;
		}
		if (line.len == 0) {
			h->blank = 1;
			/* what followed a lone CR is the first body line */
			if (more && (str_copyb(&h->first, raw.s + off, raw.len - off) < 0 || str_catc(&h->first, '\n') < 0))
				goto nomem;
			break;
		}
		if (line.s[0] == ' ' || line.s[0] == '\t') {
			if (h->out.len == 0 && !drop) {
				/* nothing to continue: the body starts here */
				if (str_copyb(&h->first, raw.s + seg, raw.len - seg) < 0 || str_catc(&h->first, '\n') < 0)
					goto nomem;
				break;
			}
		} else if ((n = fieldname(line.s, line.len)) > 0) {
			if (flush_field(h, &val, resent) < 0)
				goto nomem;
			resent = n > 7 && strncasecmp(line.s, "resent-", 7) == 0;
			h->is_resent |= resent;
			drop = named(line.s, line.len, resent ? "resent-bcc" : "bcc");
			parse = tflag && (drop || named(line.s + 7 * resent, line.len - 7 * (size_t)resent, "to") ||
			    named(line.s + 7 * resent, line.len - 7 * (size_t)resent, "cc"));
			{
				const char *nm = line.s + 7 * resent;
				size_t nl = line.len - 7 * (size_t)resent;
				*(resent ? &h->has_rfrom : &h->has_from) |= named(nm, nl, "from");
				*(resent ? &h->has_rdate : &h->has_date) |= named(nm, nl, "date");
				*(resent ? &h->has_rmsgid : &h->has_msgid) |= named(nm, nl, "message-id");
			}
			n++;   /* past the colon */
		} else {
			/* not a header: the body starts here, without a blank line */
			if (str_copyb(&h->first, raw.s + seg, raw.len - seg) < 0 || str_catc(&h->first, '\n') < 0)
				goto nomem;
			break;
		}
		if (h->out.len + line.len + 1 > HEADERS_MAX || val.len + line.len + 1 > HEADERS_MAX)
			goto out;
		if (parse && (str_catc(&val, ' ') < 0 || str_catb(&val, line.s + n, line.len - n) < 0))
			goto nomem;
		if (!drop && (str_catb(&h->out, line.s, line.len) < 0 || str_catc(&h->out, '\n') < 0))
			goto nomem;
		if (g == BUF_PARTIAL && !more)
			break;
	}
	if (flush_field(h, &val, resent) < 0)
		goto nomem;
	if (h->is_resent) {
		struct str t = h->rcpts;
		h->rcpts = h->resent;
		h->nrcpt = h->nresent;
		h->resent = t;
	}
	ret = 0;
	goto out;
nomem:
	ret = errno == E2BIG ? EX_DATAERR : EX_TEMPFAIL;
out:
	str_free(&raw);
	str_free(&line);
	str_free(&val);
	return ret;
}

/* states of the body copy */
enum { B_BOL, B_MID, B_DOT, B_DOTCR };

int
body_copy(struct buf *in, struct buf *out, int iflag, int start)
{
	char chunk[BUF_SIZE];
	int st = start == BODY_BOL ? B_BOL : B_MID, cr = start == BODY_MID_CR;
	for (;;) {
		ssize_t r = buf_read(in, chunk, sizeof chunk), i;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		for (i = 0; i < r; i++) {
			char c = chunk[i];
			if (!iflag && st == B_DOT) {
				if (c == '\n')
					return 0;
				if (c == '\r') {
					st = B_DOTCR;
					continue;
				}
				if (buf_put(out, ".", 1) < 0)
					return -2;
				st = B_MID;
			} else if (!iflag && st == B_DOTCR) {
				if (c == '\n')
					return 0;
				if (buf_put(out, ".\r", 2) < 0)
					return -2;
				st = B_MID;
			}
			if (cr) {
				cr = 0;
				if (c != '\n' && buf_put(out, "\r", 1) < 0)
					return -2;
			}
			if (c == '\r') {
				cr = 1;
				st = B_MID;   /* a line that starts with CR is not a lone dot */
				continue;
			}
			if (c == '.' && st == B_BOL && !iflag) {
				st = B_DOT;
				continue;
			}
			if (buf_put(out, &c, 1) < 0)
				return -2;
			st = c == '\n' ? B_BOL : B_MID;
		}
	}
	if (st == B_DOT && buf_put(out, ".", 1) < 0)
		return -2;
	if (st == B_DOTCR && buf_put(out, ".\r", 2) < 0)
		return -2;
	if (cr && buf_put(out, "\r", 1) < 0)
		return -2;
	return 0;
}
