/* Reply lines are "DDD-text" (more follow) or "DDD text" / "DDD" (last).
 * The parser keeps at most SMTPREPLY_TEXT_MAX bytes of text, so a peer
 * that floods continuation lines costs bounded memory. */
#include <string.h>
#include <strings.h>
#include "scan.h"
#include "smtpreply.h"

void
smtpreply_init(struct smtpreply *r)
{
	r->text = (struct str)STR_INIT;
	smtpreply_reset(r);
}

void
smtpreply_reset(struct smtpreply *r)
{
	r->code = 0;
	r->lines = 0;
	r->enh[0] = 0;
	r->text.len = 0;
	if (r->text.s)
		r->text.s[0] = 0;
}

void
smtpreply_free(struct smtpreply *r)
{
	str_free(&r->text);
	r->code = 0;
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

int
smtpreply_isenh(const char *s, size_t len, char c)
{
	size_t i = 0, part, n;
	if (len < 5 || s[0] != c || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; i < len && isdig(s[i]); i++)
			n++;
		if (n < 1 || n > 3)
			return 0;
		if (part == 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == len;
}

static int
addtext(struct smtpreply *r, const char *s, size_t n)
{
	size_t room;
	if (r->text.len >= SMTPREPLY_TEXT_MAX)
		return 0;
	room = SMTPREPLY_TEXT_MAX - r->text.len;
	if (n > room)
		n = room;
	if (str_catb(&r->text, s, n) < 0)
		return -1;
	return str_0(&r->text);
}

int
smtpreply_line(struct smtpreply *r, const char *line, size_t len)
{
	unsigned long long code;
	const char *t;
	size_t tlen, sp;
	int last;
	if (len < 3 || scan_ulong(line, 3, 599, &code) < 0 || code < 200)
		return -1;
	if (line[1] > '5')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	last = len == 3 || line[3] == ' ';
	if (r->lines > 0 && (int)code != r->code)
		return -1;
	if (++r->lines > SMTPREPLY_LINES_MAX)
		return -1;
	r->code = (int)code;
	t = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	/* the enhanced code prefixes every line when present; strip it. Its
	 * class is the reply's first digit, and only 2, 4 and 5 exist (RFC
	 * 3463): a 3xx reply such as 354 carries none. */
	for (sp = 0; sp < tlen && t[sp] != ' '; sp++)
		;
	if (line[0] != '3' && smtpreply_isenh(t, sp, line[0])) {
		if (r->lines == 1) {
			memcpy(r->enh, t, sp);
			r->enh[sp] = 0;
		}
		t += sp;
		tlen -= sp;
		if (tlen && *t == ' ') {
			t++;
			tlen--;
		}
	}
	if (r->lines > 1 && addtext(r, "\n", 1) < 0)
		return -1;
	if (addtext(r, t, tlen) < 0)
		return -1;
	return last ? 1 : 0;
}

void
smtpreply_enhanced(const struct smtpreply *r, int rcpt, char out[SMTPREPLY_ENH_MAX])
{
	const char *e;
	if (r->enh[0]) {
		memcpy(out, r->enh, SMTPREPLY_ENH_MAX);
		return;
	}
	switch (r->code) {
	case 250: case 251: case 221: e = "2.0.0"; break;
	case 421: e = "4.4.2"; break;
	case 450: e = rcpt ? "4.2.0" : "4.0.0"; break;
	case 451: e = "4.3.0"; break;
	case 452: e = rcpt ? "4.5.3" : "4.3.1"; break;
	case 550: e = rcpt ? "5.1.1" : "5.0.0"; break;
	case 551: e = "5.1.6"; break;
	case 552: e = rcpt ? "5.2.2" : "5.3.4"; break;
	case 553: e = rcpt ? "5.1.3" : "5.1.7"; break;
	case 554: e = "5.0.0"; break;
	case 500: case 501: case 502: case 503: case 504: e = "5.5.0"; break;
	default:
		if (r->code < 400)   /* 3xx too: intermediate, not a failure */
			e = "2.0.0";
		else if (r->code >= 400 && r->code < 500)
			e = "4.0.0";
		else
			e = "5.0.0";
	}
	memcpy(out, e, strlen(e) + 1);
}

int
smtpreply_print(const struct smtpreply *r, struct str *out)
{
	size_t i, start;
	if (str_catu(out, (unsigned long long)r->code) < 0)
		return -1;
	if (r->text.len == 0)
		return 0;
	if (str_catc(out, ' ') < 0)
		return -1;
	start = out->len;
	if (str_catb(out, r->text.s, r->text.len) < 0)
		return -1;
	for (i = start; i < out->len; i++) {
		unsigned char c = (unsigned char)out->s[i];
		if (c < ' ' || c == 0x7f)
			out->s[i] = ' ';
	}
	return 0;
}

static int
kw(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len == n && strncasecmp(s, word, n) == 0;
}

/* one EHLO line: KEYWORD [PARAM...] */
static void
ehlo_line(const char *s, size_t len, struct smtpext *e)
{
	size_t k, i;
	for (k = 0; k < len && s[k] != ' ' && s[k] != '='; k++)
		;
	if (kw(s, k, "PIPELINING"))
		e->flags |= EXT_PIPELINING;
	else if (kw(s, k, "8BITMIME"))
		e->flags |= EXT_8BITMIME;
	else if (kw(s, k, "SMTPUTF8"))
		e->flags |= EXT_SMTPUTF8;
	else if (kw(s, k, "STARTTLS"))
		e->flags |= EXT_STARTTLS;
	else if (kw(s, k, "DSN"))
		e->flags |= EXT_DSN;
	else if (kw(s, k, "ENHANCEDSTATUSCODES"))
		e->flags |= EXT_ENHANCED;
	else if (kw(s, k, "CHUNKING"))
		e->flags |= EXT_CHUNKING;
	else if (kw(s, k, "SIZE")) {
		unsigned long long v;
		e->flags |= EXT_SIZE;
		if (k < len && s[k] == ' ') {
			size_t j = k + 1, n = 0;
			while (j + n < len && s[j + n] != ' ')
				n++;
			if (scan_ulong(s + j, n, ~0ULL, &v) == 0)
				e->size = v;
		}
	} else if (kw(s, k, "AUTH")) {
		/* "AUTH PLAIN LOGIN" (and the old "AUTH=PLAIN LOGIN") */
		i = k;
		while (i < len) {
			size_t n = 0;
			i++;
			while (i + n < len && s[i + n] != ' ')
				n++;
			if (kw(s + i, n, "PLAIN"))
				e->flags |= EXT_AUTH_PLAIN;
			else if (kw(s + i, n, "LOGIN"))
				e->flags |= EXT_AUTH_LOGIN;
			i += n;
		}
	}
}

void
smtpreply_ehlo(const struct smtpreply *r, struct smtpext *e)
{
	const char *p = r->text.s, *end;
	e->flags = 0;
	e->size = 0;
	if (!p)
		return;
	end = p + r->text.len;
	p = memchr(p, '\n', r->text.len);   /* skip the greeting line */
	while (p && p < end) {
		const char *nl;
		p++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ehlo_line(p, (size_t)((nl ? nl : end) - p), e);
		p = nl;
	}
}
