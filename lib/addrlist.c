/* A single pass: the bytes outside comments and outside <...> collect as
 * the bare address, those inside <...> as the angle address; ',' or ';'
 * ends an entry, ':' at the top level starts a group (its name is
 * dropped). An entry's address is the angle address when it had one. */
#include <errno.h>
#include <string.h>
#include "addrlist.h"
#include "smtpaddr.h"

struct entry {
	struct str bare, angle;
	int inangle, hadangle;
};

static int
ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t encoded_word(const char *, size_t, size_t);

/* skip a comment starting at s[i] == '('; returns the index after it.
 * An encoded word in it is skipped whole, as outside: mailers write a
 * raw '(' or ')' in its text ("(=?utf-8?q?x)y?=)", though RFC 2047 5
 * (2) forbids it), and counted as nesting, one swallowed the rest of
 * the field (sendmail -t lost the recipients after it) and the other
 * ended the comment early, its tail joined to the address. */
static size_t
comment(const char *s, size_t len, size_t i)
{
	size_t depth = 0, n;
	for (; i < len; i++) {
		if (s[i] == '\\') {
			i++;
		} else if (s[i] == '=' && (n = encoded_word(s, len, i)) > 0) {
			i += n - 1;
		} else if (s[i] == '(') {
			if (++depth > ADDRLIST_DEPTH_MAX)
				return len;
		} else if (s[i] == ')') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return len;
}

/* copy a quoted string starting at s[i] == '"' (quotes and escapes kept) */
static size_t
quoted(const char *s, size_t len, size_t i, struct str *to, int *err)
{
	size_t start = i++;
	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"') {
			i++;
			break;
		}
	}
	if (str_catb(to, s + start, i - start) < 0)
		*err = 1;
	return i;
}

/* The length of the RFC 2047 encoded word "=?charset?B|Q?text?=" at
 * s[i], or 0. Its text is never address syntax (RFC 2047 5), though
 * mailers write a raw ',' or '<' there ("=?utf-8?q?Doe,_John?="): the
 * word is one piece of display name, kept encoded (nothing here shows
 * it). Each scan stops at the next '?', so the field is walked once. */
static size_t
encoded_word(const char *s, size_t len, size_t i)
{
	size_t j = i + 2;
	if (j > len || s[i] != '=' || s[i + 1] != '?')
		return 0;
	for (; j < len && s[j] != '?'; j++)
		if ((unsigned char)s[j] <= ' ' || s[j] == 0x7f)
			return 0;
	if (j == i + 2 || j + 2 >= len || s[j + 2] != '?' || !strchr("bBqQ", s[j + 1]))
		return 0;
	for (j += 3; j < len && s[j] != '?'; j++)
		if ((unsigned char)s[j] <= ' ' || s[j] == 0x7f)
			return 0;
	return j + 1 < len && s[j + 1] == '=' ? j + 2 - i : 0;
}

/* The length of the domain literal "[...]" at s[i] (RFC 5322 3.4.1:
 * no '[', ']' or '\\' inside), or 0 when it is not closed: a ':' in
 * "[IPv6:...]" is not a group's, a ',' there ends no entry. Each scan
 * stops at the next bracket, so a field is walked once. */
static size_t
literal(const char *s, size_t len, size_t i)
{
	size_t j;
	for (j = i + 1; j < len && s[j] != '[' && s[j] != ']' && s[j] != '\\'; j++)
		;
	return j < len && s[j] == ']' ? j + 1 - i : 0;
}

static int
usable(const struct str *a)
{
	size_t i;
	if (a->len == 0 || a->len > ADDRLIST_ADDR_MAX)
		return 0;
	for (i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return a->s[0] != '@' && a->s[a->len - 1] != '@';
}

void
addrlist_unquote(struct str *a)
{
	size_t i, n;
	if (a->len < 3 || a->s[0] != '"')
		return;
	for (n = 1; n < a->len && a->s[n] != '"'; n++) {
		unsigned char c = (unsigned char)a->s[n];
		if (c < 0x80 && !smtpaddr_atext(c) && !(c == '.' && n > 1 && a->s[n - 1] != '.'))
			return;   /* an escape, a blank, a special: the quotes stay */
	}
	if (n >= a->len || n == 1 || a->s[n - 1] == '.' || (n + 1 < a->len && a->s[n + 1] != '@'))
		return;
	for (i = 1; i < n; i++)
		a->s[i - 1] = a->s[i];
	for (i = n + 1; i < a->len; i++)
		a->s[i - 2] = a->s[i];
	a->len -= 2;
}

static int
finish(struct entry *e, struct str *out, size_t *count)
{
	struct str *a = e->hadangle || e->inangle ? &e->angle : &e->bare;
	size_t skip = 0;
	/* obsolete route: <@a,@b:user@host> */
	if (a->len && a->s[0] == '@') {
		size_t i;
		for (i = 0; i < a->len && a->s[i] != ':'; i++)
			;
		skip = i < a->len ? i + 1 : a->len;
	}
	if (skip) {
		size_t i;
		for (i = skip; i < a->len; i++)
			a->s[i - skip] = a->s[i];
		a->len -= skip;
	}
	addrlist_unquote(a);
	if (usable(a)) {
		if (*count >= ADDRLIST_COUNT_MAX) {
			errno = E2BIG;
			return -1;
		}
		if (str_catb(out, a->s, a->len) < 0 || str_catc(out, 0) < 0)
			return -1;
		(*count)++;
	}
	e->bare.len = e->angle.len = 0;
	e->inangle = e->hadangle = 0;
	return 0;
}

int
addrlist_parse(const char *s, size_t len, struct str *out, size_t *count)
{
	struct entry e = { STR_INIT, STR_INIT, 0, 0 };
	size_t i = 0, n;
	int err = 0, ret = -1;
	while (i < len && !err) {
		char c = s[i];
		struct str *to = e.inangle ? &e.angle : &e.bare;
		if (c == '(') {
			i = comment(s, len, i);
		} else if (c == '"') {
			i = quoted(s, len, i, to, &err);
		} else if (ws(c)) {
			i++;
		} else if (e.inangle) {
			if (c == '>')
				e.inangle = 0, e.hadangle = 1;
			else if (str_catc(&e.angle, c) < 0)
				err = 1;
			i++;
		} else if (c == '=' && (n = encoded_word(s, len, i)) > 0) {
			if (!e.hadangle && str_catb(&e.bare, s + i, n) < 0)
				err = 1;
			i += n;
		} else if (c == '[' && (n = literal(s, len, i)) > 0) {
			if (!e.hadangle && str_catb(&e.bare, s + i, n) < 0)
				err = 1;
			i += n;
		} else if (c == '<') {
			e.inangle = 1;
			e.angle.len = 0;
			i++;
		} else if (c == ':') {
			e.bare.len = 0;   /* a group name */
			i++;
		} else if (c == ',' || c == ';') {
			if (finish(&e, out, count) < 0)
				goto out;
			i++;
		} else {
			if (!e.hadangle && str_catc(&e.bare, c) < 0)
				err = 1;
			i++;
		}
		if (e.bare.len > ADDRLIST_ADDR_MAX + 1)
			e.bare.len = ADDRLIST_ADDR_MAX + 1;   /* stays unusable, stays bounded */
		if (e.angle.len > ADDRLIST_ADDR_MAX + 1)
			e.angle.len = ADDRLIST_ADDR_MAX + 1;
	}
	if (err)
		goto out;
	ret = finish(&e, out, count);
out:
	str_free(&e.bare);
	str_free(&e.angle);
	return ret;
}
