/* RFC 5321 section 4.1.2 paths and RFC 1869/3461/6152/6531/1870 parameters.
 * Each parser walks the bytes once with an explicit position and end; no
 * input is assumed NUL-terminated and every part is length-checked before
 * it is copied. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include "scan.h"
#include "smtpaddr.h"

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

int
smtpaddr_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned long v;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (need == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	return need;
}

int
smtpaddr_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t k = utf8_seq(p + i, len - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* A non-ASCII character at p[i]: its length when allowed, else an error. */
static int
nonascii(const unsigned char *p, size_t i, size_t end, int flags, size_t *k)
{
	if (!(flags & SMTPADDR_UTF8))
		return SMTPADDR_8BIT;
	*k = utf8_seq(p + i, end - i);
	return *k ? SMTPADDR_OK : SMTPADDR_SYNTAX;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str],
 * with UTF-8 U-labels under SMTPUTF8. Stops at the first byte that cannot
 * continue a domain. */
static int
parse_domain(const unsigned char *p, size_t i, size_t end, int flags, size_t *next)
{
	size_t start = i, label = 0;
	int last_hyphen = 0;
	for (;;) {
		unsigned char c;
		size_t k = 1;
		if (i >= end)
			break;
		c = p[i];
		if (c == '.') {
			if (label == 0 || last_hyphen)
				return SMTPADDR_SYNTAX;
			label = 0;
			i++;
			continue;
		}
		if (c >= 0x80) {
			int r = nonascii(p, i, end, flags, &k);
			if (r != SMTPADDR_OK)
				return r;
		} else if (c == '-') {
			if (label == 0)
				return SMTPADDR_SYNTAX;
		} else if (!is_alpha(c) && !is_digit(c)) {
			break;
		}
		last_hyphen = c == '-';
		label += k;
		if (label > 63)
			return SMTPADDR_TOOLONG;
		i += k;
		if (i - start > SMTPADDR_DOMAIN_MAX)
			return SMTPADDR_TOOLONG;
	}
	if (label == 0 || last_hyphen)
		return SMTPADDR_SYNTAX;
	*next = i;
	return SMTPADDR_OK;
}

/* "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]" */
static int
parse_literal(const unsigned char *p, size_t i, size_t end, size_t *next)
{
	size_t start = ++i, n;
	char tmp[64];
	while (i < end && p[i] != ']') {
		if (p[i] < 33 || p[i] > 126 || p[i] == '[' || p[i] == '\\')
			return SMTPADDR_SYNTAX;
		i++;
	}
	if (i >= end)
		return SMTPADDR_SYNTAX;
	n = i - start;
	if (n == 0 || n >= sizeof tmp)
		return n ? SMTPADDR_TOOLONG : SMTPADDR_SYNTAX;
	memcpy(tmp, p + start, n);
	tmp[n] = 0;
	if (n > 5 && strncasecmp(tmp, "IPv6:", 5) == 0) {
		unsigned char a6[16];
		if (inet_pton(AF_INET6, tmp + 5, a6) != 1)
			return SMTPADDR_SYNTAX;
	} else {
		unsigned char a4[4];
		if (inet_pton(AF_INET, tmp, a4) != 1)
			return SMTPADDR_SYNTAX;
	}
	*next = i + 1;
	return SMTPADDR_OK;
}

int
smtpaddr_literal_ok(const char *s, size_t len)
{
	size_t next;
	return len && s[0] == '[' && parse_literal((const unsigned char *)s, 0, len, &next) == SMTPADDR_OK &&
	    next == len;
}

/* Dot-string = Atom *("." Atom) */
static int
parse_dotstring(const unsigned char *p, size_t i, size_t end, int flags, size_t *next)
{
	size_t atom = 0;
	while (i < end) {
		unsigned char c = p[i];
		size_t k = 1;
		if (c == '.') {
			if (atom == 0)
				return SMTPADDR_SYNTAX;
			atom = 0;
			i++;
			continue;
		}
		if (c >= 0x80) {
			int r = nonascii(p, i, end, flags, &k);
			if (r != SMTPADDR_OK)
				return r;
		} else if (!smtpaddr_atext(c)) {
			break;
		}
		atom += k;
		i += k;
	}
	if (atom == 0)
		return SMTPADDR_SYNTAX;
	*next = i;
	return SMTPADDR_OK;
}

static int
dotstring_whole(const char *s, size_t len)
{
	size_t next;
	return len && parse_dotstring((const unsigned char *)s, 0, len, SMTPADDR_UTF8, &next) == SMTPADDR_OK &&
	    next == len;
}

/* Quoted-string: the content (escapes removed) is appended to content. */
static int
parse_quoted(const unsigned char *p, size_t i, size_t end, int flags, struct str *content, size_t *next)
{
	i++;   /* the opening quote */
	while (i < end) {
		unsigned char c = p[i];
		size_t k = 1;
		if (c == '"') {
			*next = i + 1;
			return SMTPADDR_OK;
		}
		if (c == '\\') {
			if (i + 1 >= end || p[i + 1] < 32 || p[i + 1] > 126)
				return SMTPADDR_SYNTAX;
			i++;
			c = p[i];
		} else if (c >= 0x80) {
			int r = nonascii(p, i, end, flags, &k);
			if (r != SMTPADDR_OK)
				return r;
		} else if (c < 32 || c > 126) {
			return SMTPADDR_SYNTAX;
		}
		if (content->len + k > SMTPADDR_LOCAL_MAX)
			return SMTPADDR_TOOLONG;
		if (str_catb(content, (const char *)p + i, k) < 0)
			return SMTPADDR_NOMEM;
		i += k;
	}
	return SMTPADDR_SYNTAX;
}

/* Append the local part: plain when the quoted content is a dot-string,
 * otherwise re-quoted with only '"' and '\' escaped. */
static int
put_local(struct smtpaddr *out, const struct str *content)
{
	size_t j;
	if (dotstring_whole(content->s, content->len))
		return str_catb(&out->addr, content->s, content->len) < 0 ? SMTPADDR_NOMEM : SMTPADDR_OK;
	out->quoted = 1;
	if (str_catc(&out->addr, '"') < 0)
		return SMTPADDR_NOMEM;
	for (j = 0; j < content->len; j++) {
		char c = content->s[j];
		if ((c == '"' || c == '\\') && str_catc(&out->addr, '\\') < 0)
			return SMTPADDR_NOMEM;
		if (str_catc(&out->addr, c) < 0)
			return SMTPADDR_NOMEM;
	}
	return str_catc(&out->addr, '"') < 0 ? SMTPADDR_NOMEM : SMTPADDR_OK;
}

int
smtpaddr_mailbox_ok(const char *a, size_t len)
{
	const unsigned char *p = (const unsigned char *)a;
	struct str content = STR_INIT;
	size_t next = 0;
	int r;
	if (len == 0 || len > SMTPADDR_PATH_MAX)
		return 0;
	if (p[0] == '"')
		r = parse_quoted(p, 0, len, SMTPADDR_UTF8, &content, &next);
	else if ((r = parse_dotstring(p, 0, len, SMTPADDR_UTF8, &next)) == SMTPADDR_OK && next > SMTPADDR_LOCAL_MAX)
		r = SMTPADDR_TOOLONG;
	str_free(&content);
	if (r != SMTPADDR_OK || next >= len || p[next] != '@')
		return 0;
	if (next + 1 < len && p[next + 1] == '[')
		return smtpaddr_literal_ok(a + next + 1, len - next - 1);
	r = parse_domain(p, next + 1, len, SMTPADDR_UTF8, &next);
	return r == SMTPADDR_OK && next == len;
}

static int
path(const unsigned char *p, size_t len, int flags, struct smtpaddr *out, size_t *used, struct str *content)
{
	size_t i = 0, next, lstart;
	int r;
	if (len == 0 || p[0] != '<')
		return SMTPADDR_SYNTAX;
	i = 1;
	if (i < len && p[i] == '>') {
		if (!(flags & SMTPADDR_NULLOK))
			return SMTPADDR_SYNTAX;
		*used = 2;
		return str_copyb(&out->addr, "", 0) < 0 ? SMTPADDR_NOMEM : SMTPADDR_OK;
	}
	/* A-d-l ":" — a source route, accepted and ignored (RFC 5321 C.) */
	if (i < len && p[i] == '@') {
		for (;;) {
			if (i >= len || p[i] != '@')
				return SMTPADDR_SYNTAX;
			if (p[i + 1 < len ? i + 1 : i] == '[')
				r = parse_literal(p, i + 1, len, &next);
			else
				r = parse_domain(p, i + 1, len, flags, &next);
			if (r != SMTPADDR_OK)
				return r;
			i = next;
			if (i < len && p[i] == ',') {
				i++;
				continue;
			}
			if (i < len && p[i] == ':') {
				i++;
				break;
			}
			return SMTPADDR_SYNTAX;
		}
	}
	/* Local-part */
	if (i < len && p[i] == '"') {
		r = parse_quoted(p, i, len, flags, content, &next);
		if (r != SMTPADDR_OK)
			return r;
		r = put_local(out, content);
	} else {
		r = parse_dotstring(p, i, len, flags, &next);
		if (r != SMTPADDR_OK)
			return r;
		if (next - i > SMTPADDR_LOCAL_MAX)
			return SMTPADDR_TOOLONG;
		r = str_catb(&out->addr, (const char *)p + i, next - i) < 0 ? SMTPADDR_NOMEM : SMTPADDR_OK;
	}
	if (r != SMTPADDR_OK)
		return r;
	i = next;
	out->at = out->addr.len;
	if (i < len && p[i] == '>' && (flags & SMTPADDR_NODOMAIN) && !out->quoted &&
	    out->addr.len == 10 && strncasecmp(out->addr.s, "postmaster", 10) == 0) {
		*used = i + 1;
		return SMTPADDR_OK;
	}
	if (i >= len || p[i] != '@')
		return SMTPADDR_SYNTAX;
	i++;
	lstart = i;
	if (i < len && p[i] == '[')
		r = parse_literal(p, i, len, &next);
	else
		r = parse_domain(p, i, len, flags, &next);
	if (r != SMTPADDR_OK)
		return r;
	if (next >= len || p[next] != '>')
		return SMTPADDR_SYNTAX;
	if (out->addr.len + 1 + (next - lstart) > SMTPADDR_PATH_MAX)
		return SMTPADDR_TOOLONG;
	if (str_catc(&out->addr, '@') < 0 || str_catb(&out->addr, (const char *)p + lstart, next - lstart) < 0)
		return SMTPADDR_NOMEM;
	*used = next + 1;
	return SMTPADDR_OK;
}

int
smtpaddr_path(const char *s, size_t len, int flags, struct smtpaddr *out, size_t *used)
{
	struct str content = STR_INIT;
	int r;
	out->addr.len = 0;
	out->at = 0;
	out->quoted = 0;
	out->utf8 = 0;
	r = path((const unsigned char *)s, len, flags, out, used, &content);
	str_free(&content);
	if (r == SMTPADDR_OK && str_0(&out->addr) < 0)
		r = SMTPADDR_NOMEM;
	if (r != SMTPADDR_OK) {
		out->addr.len = 0;
		out->at = 0;
		return r;
	}
	out->utf8 = str_8bit(out->addr.s, out->addr.len);
	if (out->at > out->addr.len)
		out->at = out->addr.len;
	return SMTPADDR_OK;
}

void
smtpaddr_free(struct smtpaddr *a)
{
	str_free(&a->addr);
}

int
smtpaddr_local_routing(const struct smtpaddr *a)
{
	size_t i;
	if (a->quoted)
		return 1;
	for (i = 0; i < a->at && i < a->addr.len; i++)
		if (a->addr.s[i] == '@' || a->addr.s[i] == '%' || a->addr.s[i] == '!')
			return 1;
	return 0;
}

int
smtpaddr_xtext_ok(const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			size_t j;
			if (len - i < 3)
				return 0;
			for (j = 1; j <= 2; j++) {
				unsigned char h = (unsigned char)s[i + j];
				if (!is_digit(h) && !(h >= 'A' && h <= 'F'))
					return 0;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return 0;
		}
	}
	return 1;
}

/* One "keyword[=value]" at s[*i..len), after any spaces. 1 got one,
 * 0 end of input, SMTPADDR_PARAM_SYNTAX. */
struct param {
	const char *key, *val;
	size_t keylen, vallen;
	int hasval;
};

static int
param_next(const char *s, size_t len, size_t *pos, struct param *pm)
{
	size_t i = *pos;
	if (i < len && s[i] != ' ')
		return SMTPADDR_PARAM_SYNTAX;
	while (i < len && s[i] == ' ')
		i++;
	if (i >= len) {
		*pos = i;
		return 0;
	}
	pm->key = s + i;
	if (!is_alpha((unsigned char)s[i]) && !is_digit((unsigned char)s[i]))
		return SMTPADDR_PARAM_SYNTAX;
	while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '-'))
		i++;
	pm->keylen = (size_t)(s + i - pm->key);
	pm->hasval = 0;
	pm->val = s + i;
	pm->vallen = 0;
	if (i < len && s[i] == '=') {
		size_t vstart = ++i;
		while (i < len && s[i] != ' ') {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x80) {
				size_t k = utf8_seq((const unsigned char *)s + i, len - i);
				if (k == 0)
					return SMTPADDR_PARAM_SYNTAX;
				i += k;
				continue;
			}
			if (c < 33 || c == '=' || c == 127)
				return SMTPADDR_PARAM_SYNTAX;
			i++;
		}
		if (i == vstart)
			return SMTPADDR_PARAM_SYNTAX;
		pm->hasval = 1;
		pm->val = s + vstart;
		pm->vallen = i - vstart;
	}
	if (i < len && s[i] != ' ')
		return SMTPADDR_PARAM_SYNTAX;
	*pos = i;
	return 1;
}

static int
key_is(const struct param *pm, const char *name)
{
	return pm->keylen == strlen(name) && strncasecmp(pm->key, name, pm->keylen) == 0;
}

static int
val_is(const struct param *pm, const char *v)
{
	return pm->vallen == strlen(v) && strncasecmp(pm->val, v, pm->vallen) == 0;
}

int
smtpaddr_mail_params(const char *s, size_t len, struct smtp_mailparams *mp)
{
	size_t pos = 0;
	struct param pm;
	int r;
	mp->has_size = 0;
	mp->size = 0;
	mp->body = SMTP_BODY_NONE;
	mp->smtputf8 = 0;
	mp->ret = SMTP_RET_NONE;
	mp->envid.len = 0;
	mp->has_auth = 0;
	while ((r = param_next(s, len, &pos, &pm)) == 1) {
		if (key_is(&pm, "SIZE")) {
			size_t k;
			if (mp->has_size)
				return SMTPADDR_PARAM_DUP;
			/* RFC 1870: 1*20DIGIT; 20 digits past 2^64-1 are a size
			 * over any limit (552), not bad syntax */
			for (k = 0; k < pm.vallen && is_digit((unsigned char)pm.val[k]); k++)
				;
			if (!pm.hasval || pm.vallen > 20 || k < pm.vallen)
				return SMTPADDR_PARAM_SYNTAX;
			if (scan_ulong(pm.val, pm.vallen, ~0ULL, &mp->size) < 0)
				mp->size = ~0ULL;
			mp->has_size = 1;
		} else if (key_is(&pm, "BODY")) {
			if (mp->body)
				return SMTPADDR_PARAM_DUP;
			if (val_is(&pm, "7BIT"))
				mp->body = SMTP_BODY_7BIT;
			else if (val_is(&pm, "8BITMIME"))
				mp->body = SMTP_BODY_8BITMIME;
			else
				return pm.hasval ? SMTPADDR_PARAM_UNKNOWN : SMTPADDR_PARAM_SYNTAX;
		} else if (key_is(&pm, "SMTPUTF8")) {
			if (mp->smtputf8)
				return SMTPADDR_PARAM_DUP;
			if (pm.hasval)
				return SMTPADDR_PARAM_SYNTAX;
			mp->smtputf8 = 1;
		} else if (key_is(&pm, "RET")) {
			if (mp->ret)
				return SMTPADDR_PARAM_DUP;
			if (val_is(&pm, "FULL"))
				mp->ret = SMTP_RET_FULL;
			else if (val_is(&pm, "HDRS"))
				mp->ret = SMTP_RET_HDRS;
			else
				return SMTPADDR_PARAM_SYNTAX;
		} else if (key_is(&pm, "ENVID")) {
			if (mp->envid.len)
				return SMTPADDR_PARAM_DUP;
			if (!pm.hasval || pm.vallen > SMTPADDR_ENVID_MAX || !smtpaddr_xtext_ok(pm.val, pm.vallen))
				return SMTPADDR_PARAM_SYNTAX;
			if (str_copyb(&mp->envid, pm.val, pm.vallen) < 0)
				return SMTPADDR_NOMEM;
		} else if (key_is(&pm, "AUTH")) {
			if (mp->has_auth)
				return SMTPADDR_PARAM_DUP;
			if (!pm.hasval || !smtpaddr_xtext_ok(pm.val, pm.vallen))
				return SMTPADDR_PARAM_SYNTAX;
			mp->has_auth = 1;
		} else {
			return SMTPADDR_PARAM_UNKNOWN;
		}
	}
	return r == 0 ? SMTPADDR_OK : r;
}

int
smtpaddr_notify_fmt(struct str *out, unsigned bits)
{
	static const struct { unsigned bit; const char *name; } n[] = {
		{ SMTP_NOTIFY_NEVER, "NEVER" }, { SMTP_NOTIFY_SUCCESS, "SUCCESS" },
		{ SMTP_NOTIFY_FAILURE, "FAILURE" }, { SMTP_NOTIFY_DELAY, "DELAY" },
	};
	size_t i;
	int first = 1;
	if (str_cats(out, "NOTIFY=") < 0)
		return -1;
	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		if (!(bits & n[i].bit))
			continue;
		if ((!first && str_catc(out, ',') < 0) || str_cats(out, n[i].name) < 0)
			return -1;
		first = 0;
	}
	return 0;
}

int
smtpaddr_notify(const char *v, size_t len, unsigned *out)
{
	size_t i = 0;
	unsigned m = 0;
	while (i <= len) {
		size_t j = i;
		unsigned bit;
		while (j < len && v[j] != ',')
			j++;
		if (j - i == 5 && strncasecmp(v + i, "NEVER", 5) == 0)
			bit = SMTP_NOTIFY_NEVER;
		else if (j - i == 7 && strncasecmp(v + i, "SUCCESS", 7) == 0)
			bit = SMTP_NOTIFY_SUCCESS;
		else if (j - i == 7 && strncasecmp(v + i, "FAILURE", 7) == 0)
			bit = SMTP_NOTIFY_FAILURE;
		else if (j - i == 5 && strncasecmp(v + i, "DELAY", 5) == 0)
			bit = SMTP_NOTIFY_DELAY;
		else
			return SMTPADDR_PARAM_SYNTAX;
		if (m & bit)
			return SMTPADDR_PARAM_SYNTAX;
		m |= bit;
		i = j + 1;
	}
	if ((m & SMTP_NOTIFY_NEVER) && m != SMTP_NOTIFY_NEVER)
		return SMTPADDR_PARAM_SYNTAX;
	*out = m;
	return SMTPADDR_OK;
}

/* ORCPT=addr-type ";" xtext; the utf-8 address type (RFC 6533) carries
 * UTF-8 and "\x{HEX}" escapes, allowed only under SMTPUTF8. */
static int
orcpt_ok(const char *v, size_t len, int utf8)
{
	size_t i = 0;
	while (i < len && v[i] != ';') {
		unsigned char c = (unsigned char)v[i];
		if (!is_alpha(c) && !is_digit(c) && c != '-')
			return 0;
		i++;
	}
	if (i == 0 || i >= len || i + 1 >= len)
		return 0;
	if (i == 5 && strncasecmp(v, "utf-8", 5) == 0) {
		size_t k;
		if (!utf8)
			return smtpaddr_xtext_ok(v + i + 1, len - i - 1);
		for (k = i + 1; k < len; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c < 0x80 && (c < 33 || c == '+' || c == '=' || c == 127))
				return 0;
		}
		return smtpaddr_utf8_ok(v + i + 1, len - i - 1);
	}
	return smtpaddr_xtext_ok(v + i + 1, len - i - 1);
}

int
smtpaddr_rcpt_params(const char *s, size_t len, int utf8, struct smtp_rcptparams *rp)
{
	size_t pos = 0;
	struct param pm;
	int r;
	rp->notify = 0;
	rp->orcpt.len = 0;
	while ((r = param_next(s, len, &pos, &pm)) == 1) {
		if (key_is(&pm, "NOTIFY")) {
			if (rp->notify)
				return SMTPADDR_PARAM_DUP;
			if (!pm.hasval || smtpaddr_notify(pm.val, pm.vallen, &rp->notify) != SMTPADDR_OK)
				return SMTPADDR_PARAM_SYNTAX;
		} else if (key_is(&pm, "ORCPT")) {
			if (rp->orcpt.len)
				return SMTPADDR_PARAM_DUP;
			if (!pm.hasval || pm.vallen > SMTPADDR_ORCPT_MAX || !orcpt_ok(pm.val, pm.vallen, utf8))
				return SMTPADDR_PARAM_SYNTAX;
			if (str_copyb(&rp->orcpt, pm.val, pm.vallen) < 0)
				return SMTPADDR_NOMEM;
		} else {
			return SMTPADDR_PARAM_UNKNOWN;
		}
	}
	return r == 0 ? SMTPADDR_OK : r;
}

void
smtpaddr_mail_params_free(struct smtp_mailparams *mp)
{
	str_free(&mp->envid);
}

void
smtpaddr_rcpt_params_free(struct smtp_rcptparams *rp)
{
	str_free(&rp->orcpt);
}

/* The end of the quoted string at p[0] == '"' (the index past its closing
 * DQUOTE), or 0 when it is not well-formed: a control or DEL byte, a
 * backslash pairing with no printable byte, no closing DQUOTE. */
static size_t
quoted_end(const unsigned char *p, size_t len)
{
	size_t i = 1;
	while (i < len) {
		unsigned char c = p[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (i + 1 >= len || p[i + 1] < 32 || p[i + 1] > 126)
				return 0;
			i += 2;
			continue;
		}
		if (c < 32 || c == 127)
			return 0;
		i++;
	}
	return 0;
}

size_t
smtpaddr_field(const char *s, size_t len)
{
	size_t i = 0;
	if (len && s[0] == '"')
		i = quoted_end((const unsigned char *)s, len);
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

int
smtpaddr_field_ok(const char *a, size_t len)
{
	const unsigned char *p = (const unsigned char *)a;
	size_t i = 0;
	if (len == 0)
		return 0;
	if (p[0] == '"') {
		if (!(i = quoted_end(p, len)) || (i < len && p[i] != '@'))
			return 0;
	}
	for (; i < len; i++)
		if (p[i] <= ' ' || p[i] == 127 || p[i] == '<' || p[i] == '>' || p[i] == '"' || p[i] == '\\')
			return 0;
	return 1;
}

int
smtpaddr_field_put(struct str *out, const char *a, size_t len)
{
	size_t i;
	if (smtpaddr_field_ok(a, len))
		return str_catb(out, a, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a[i];
		if (str_catc(out, c <= ' ' || c == 127 || c == '"' ? '?' : (char)c) < 0)
			return -1;
	}
	return 0;
}

int
smtpaddr_cmp(const char *a, const char *b)
{
	const char *aat = strrchr(a, '@'), *bat = strrchr(b, '@');
	size_t al = aat ? (size_t)(aat - a) : strlen(a), bl = bat ? (size_t)(bat - b) : strlen(b);
	int c;
	if (al != bl)
		return al < bl ? -1 : 1;
	if ((c = memcmp(a, b, al)) != 0)
		return c;
	if (!aat || !bat)
		return (aat != NULL) - (bat != NULL);
	return strcasecmp(aat, bat);
}
