/* The POP3 command parser: a keyword (case-insensitive, 3-4 letters),
 * then arguments separated by single spaces (RFC 1939 3). */
#include <string.h>
#include "popcmd.h"

static const struct {
	const char *name;
	enum popcmd_verb verb;
	int minargs, maxargs;
} verbs[] = {
	{ "USER", POP_USER, 1, 1 }, { "PASS", POP_PASS, 1, 1 }, { "APOP", POP_APOP, 2, 2 },
	{ "AUTH", POP_AUTH, 0, 2 }, { "STLS", POP_STLS, 0, 0 }, { "CAPA", POP_CAPA, 0, 0 },
	{ "STAT", POP_STAT, 0, 0 }, { "LIST", POP_LIST, 0, 1 }, { "RETR", POP_RETR, 1, 1 },
	{ "DELE", POP_DELE, 1, 1 }, { "NOOP", POP_NOOP, 0, 0 }, { "RSET", POP_RSET, 0, 0 },
	{ "QUIT", POP_QUIT, 0, 0 }, { "UIDL", POP_UIDL, 0, 1 }, { "TOP", POP_TOP, 2, 2 },
};
enum { nverbs = sizeof verbs / sizeof verbs[0] };

static void
bad(struct popcmd *c, const char *why)
{
	c->verb = POP_BAD;
	c->nargs = 0;
	c->arg[0] = c->arg[1] = NULL;
	c->arglen[0] = c->arglen[1] = 0;
	c->why = why;
}

/* Does line[from..len) hold a byte that is refused there? */
static int
refused(const char *line, size_t from, size_t len, int password)
{
	size_t i;
	for (i = from; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		/* a password is any bytes mailuser(8) takes (a TAB, say) but
		 * NUL, which would cut it short, and CR and LF, as in AUTH PLAIN */
		if (password ? ch == 0 || ch == '\r' || ch == '\n' : ch < 32 || ch == 127)
			return 1;
	}
	return 0;
}

void
popcmd_parse(const char *line, size_t len, struct popcmd *c)
{
	size_t i, klen, pos;
	char kw[5];
	bad(c, "unknown command");
	for (klen = 0; klen < len && line[klen] != ' '; klen++)
		;
	i = nverbs;
	if (klen >= 3 && klen <= 4) {
		for (i = 0; i < klen; i++) {
			char ch = line[i];
			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 32);
			kw[i] = ch;
		}
		kw[klen] = 0;
		for (i = 0; i < nverbs; i++)
			if (strcmp(kw, verbs[i].name) == 0)
				break;
	}
	if (refused(line, 0, klen, 0) || refused(line, klen, len, i < nverbs && verbs[i].verb == POP_PASS)) {
		bad(c, "control character in command");
		return;
	}
	if (i == nverbs)
		return;
	c->verb = verbs[i].verb;
	c->why = NULL;
	pos = klen;
	if (c->verb == POP_PASS) {
		/* the password is the rest of the line, spaces and all */
		if (pos + 1 >= len) {
			bad(c, "syntax: PASS password");
			return;
		}
		c->arg[0] = line + pos + 1;
		c->arglen[0] = len - pos - 1;
		c->nargs = 1;
		return;
	}
	while (pos < len) {
		size_t start, end;
		if (line[pos] != ' ' || pos + 1 >= len || line[pos + 1] == ' ') {
			bad(c, "syntax error: one space between arguments");
			return;
		}
		start = pos + 1;
		for (end = start; end < len && line[end] != ' '; end++)
			;
		if (c->nargs == verbs[i].maxargs) {
			bad(c, "too many arguments");
			return;
		}
		c->arg[c->nargs] = line + start;
		c->arglen[c->nargs] = end - start;
		c->nargs++;
		pos = end;
	}
	if (c->nargs < verbs[i].minargs)
		bad(c, "missing argument");
}

static int
digits(const char *s, size_t len)
{
	size_t i;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
popcmd_count(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;
	if (!digits(s, len))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		/* v * 10 + d would pass max (d > max first: max - d must not wrap) */
		if (d > max || v > (max - d) / 10) {
			v = max;
			break;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
popcmd_msgno(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	if (len > 20 || popcmd_count(s, len, (unsigned long long)max + 1, &v) < 0)
		return -1;
	if (v == 0 || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}
