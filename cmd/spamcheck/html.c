/* HTML to visible text plus features, in one bounded pass: every scan
 * stops at len; script/style bodies and comments are skipped. */
#include <string.h>
#include "html.h"

enum { TAG_NAME_MAX = 12, ATTR_VALUE_MAX = 2048 };

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static const char *
find_ci(const char *s, size_t n, const char *pat)
{
	size_t pl = strlen(pat), i, k;
	if (n < pl)
		return NULL;
	for (i = 0; i + pl <= n; i++) {
		for (k = 0; k < pl && lc((unsigned char)s[i + k]) == pat[k]; k++)
			;
		if (k == pl)
			return s + i;
	}
	return NULL;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* The attribute at a + i of a tag, as HTML's tokenizer reads it: spaces
 * and '/' between attributes, a name, then an optional "= value", quoted
 * (a '>' inside quotes is part of it) or not. Sets the name and value
 * spans (vs (size_t)-1: no value); returns where the next one starts, or
 * n, or the offset of the '>' ending the tag (then nl is 0). */
struct attrspan {
	size_t ns, nl, vs, vl;
};

static size_t
attr_next(const char *a, size_t n, size_t i, struct attrspan *sp)
{
	sp->nl = 0;
	sp->vs = (size_t)-1;
	sp->vl = 0;
	while (i < n && (is_space((unsigned char)a[i]) || a[i] == '/'))
		i++;
	if (i >= n || a[i] == '>')
		return i;
	sp->ns = i++;   /* a first '=' belongs to the name */
	while (i < n && !is_space((unsigned char)a[i]) && a[i] != '/' && a[i] != '=' && a[i] != '>')
		i++;
	sp->nl = i - sp->ns;
	while (i < n && is_space((unsigned char)a[i]))
		i++;
	if (i >= n || a[i] != '=')
		return i;
	for (i++; i < n && is_space((unsigned char)a[i]); i++)
		;
	if (i < n && (a[i] == '"' || a[i] == '\'')) {
		const char *q = memchr(a + i + 1, a[i], n - i - 1);
		sp->vs = i + 1;
		i = q ? (size_t)(q - a) + 1 : n;
		sp->vl = (q ? (size_t)(q - a) : n) - sp->vs;
		return i;
	}
	for (sp->vs = i; i < n && !is_space((unsigned char)a[i]) && a[i] != '>'; i++)
		;
	sp->vl = i - sp->vs;
	return i;
}

/* Offset of the '>' that ends the tag whose attributes start at a (len if
 * none): not one inside a quoted value, which browsers read as text of
 * the value. */
static size_t
tag_end(const char *in, size_t len, size_t a)
{
	struct attrspan sp;
	size_t i = a;
	while (i < len) {
		size_t next = attr_next(in, len, i, &sp);
		if (!sp.nl)
			return next;
		i = next;
	}
	return len;
}

/* Value of attribute name (the first one of that name, as browsers take)
 * in a tag's attribute text, or NULL. */
static const char *
attr(const char *a, size_t n, const char *name, size_t *vl)
{
	size_t nl = strlen(name), i = 0;
	struct attrspan sp;
	while (i < n) {
		i = attr_next(a, n, i, &sp);
		if (!sp.nl)
			return NULL;
		if (sp.nl == nl && starts_ci(a + sp.ns, nl, name)) {
			if (sp.vs == (size_t)-1)
				return NULL;   /* "<a href>": no target */
			*vl = sp.vl < ATTR_VALUE_MAX ? sp.vl : ATTR_VALUE_MAX;
			return a + sp.vs;
		}
	}
	return NULL;
}

static int
put_cp(struct str *out, unsigned long cp)
{
	char b[4];
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80)
		return str_catc(out, (char)cp);
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return str_catb(out, b, 2);
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return str_catb(out, b, 3);
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return str_catb(out, b, 4);
}

/* HTML 4's Latin-1 entities, U+00A0 on, in code point order */
static const char *const latin1[96] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo",
	"not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute",
	"Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave",
	"Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times",
	"Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute",
	"acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave",
	"iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide",
	"oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml"
};

int
html_invisible(unsigned long cp)
{
	return cp == 0xad || (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || cp == 0xfeff;
}

/* Whether the named reference name is at s (starting '&'): with its ';',
 * or, for the legacy names browsers also take without it in text (HTML's
 * Latin-1 names, amp, lt, gt, quot; none is a prefix of another), as a
 * browser shows it: "na&iumlve" is "naïve". Sets *used. */
static int
named(const char *s, size_t n, const char *name, int legacy, size_t *used)
{
	size_t el = strlen(name);
	if (n <= el || memcmp(s + 1, name, el) != 0)
		return 0;
	if (n > el + 1 && s[el + 1] == ';') {
		*used = el + 2;
		return 1;
	}
	if (legacy) {
		*used = el + 1;
		return 1;
	}
	return 0;
}

/* An entity at s (starting '&'): appends its text, returns bytes used.
 * Typographic punctuation becomes its ASCII kin, as text/plain writes it,
 * so that both versions of a message make the same words. */
static size_t
entity(struct str *out, const char *s, size_t n, int *err)
{
	static const struct { const char *name; const char *text; } ents[] = {
		{ "nbsp", " " }, { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
		{ "apos", "'" }, { "lsquo", "'" }, { "rsquo", "'" }, { "sbquo", "'" }, { "ldquo", "\"" },
		{ "rdquo", "\"" }, { "bdquo", "\"" }, { "ndash", " - " }, { "mdash", " - " }, { "hellip", "..." },
		{ "bull", " " }, { "ensp", " " }, { "emsp", " " }, { "thinsp", " " }, { "zwsp", "" },
		{ "zwnj", "" }, { "zwj", "" }, { "shy", "" }, { "euro", "\xe2\x82\xac" }, { "trade", "\xe2\x84\xa2" }
	};
	size_t i, k, used;
	if (n > 2 && s[1] == '#') {
		unsigned long cp = 0;
		int hex = (s[2] == 'x' || s[2] == 'X');
		for (i = 2 + (size_t)hex, k = 0; i < n && k < 8; i++, k++) {
			int c = lc((unsigned char)s[i]), d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (k == 0)
			goto literal;
		if (i < n && s[i] == ';')
			i++;
		if (!html_invisible(cp))
			*err |= put_cp(out, cp) < 0;
		return i;
	}
	/* every name starts with a letter: "&&&&..." costs no table search,
	 * and a name is only compared when its first letter matches (a
	 * megabyte of "&a" cost 120 comparisons a byte, 0.2 s a message) */
	if (n < 2 || !((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z')))
		goto literal;
	for (k = 0; k < sizeof ents / sizeof ents[0]; k++)
		if (ents[k].name[0] == s[1] && named(s, n, ents[k].name, k < 5, &used)) {   /* the first five are legacy names */
			*err |= str_cats(out, ents[k].text) < 0;
			return used;
		}
	for (k = 0; k < sizeof latin1 / sizeof latin1[0]; k++)
		if (latin1[k][0] == s[1] && named(s, n, latin1[k], 1, &used)) {
			*err |= put_cp(out, 0xa0 + k) < 0;
			return used;
		}
literal:
	*err |= str_catc(out, '&') < 0;
	return 1;
}

static int
is_block(const char *name)
{
	static const char *const b[] = { "br", "p", "div", "tr", "td", "th", "li", "table", "h1", "h2", "h3",
		"h4", "title", "blockquote", "hr", "ul", "ol", "center" };
	size_t i;
	for (i = 0; i < sizeof b / sizeof b[0]; i++)
		if (!strcmp(name, b[i]))
			return 1;
	return 0;
}

/* The registered-looking domain of a URL or host name (its last two
 * labels), lower case, into d (DOMAIN_MAX bytes): its length, 0 if none. */
enum { DOMAIN_MAX = 64 };
static size_t
url_domain(const char *u, size_t n, char *d)
{
	size_t i = 0, st, e, k, dots = 0;
	if (starts_ci(u, n, "http://"))
		i = 7;
	else if (starts_ci(u, n, "https://"))
		i = 8;
	for (st = i; i < n && (u[i] == '.' || u[i] == '-' || (u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z')
	    || (u[i] >= '0' && u[i] <= '9')); i++)
		;
	e = i;
	while (e > st && u[e - 1] == '.')
		e--;
	for (k = e; k > st; k--)
		if (u[k - 1] == '.' && ++dots == 2)
			break;
	if (!dots || e - k >= DOMAIN_MAX)
		return 0;
	for (i = k; i < e; i++)
		d[i - k] = (char)lc((unsigned char)u[i]);
	return e - k;
}

/* Does a link's text (text from off on) name a site (http..., www...)
 * in another domain than the link's target (dom)? Phishing shows one
 * site and links to another; newsletters' click-tracking does too, so
 * its weight is learned like any rule's. */
static int
text_mismatch(const struct str *text, size_t off, const char *dom, size_t dl)
{
	const char *s, *p;
	size_t n, ol;
	char other[DOMAIN_MAX];
	if (!dl || text->len <= off)
		return 0;
	s = text->s + off;
	n = text->len - off;
	if (!(p = find_ci(s, n, "http")) && !(p = find_ci(s, n, "www.")))
		return 0;
	ol = url_domain(p, n - (size_t)(p - s), other);
	return ol && (ol != dl || memcmp(other, dom, dl));
}

/* Does the tag text a set CSS property prop to one of vals? Spaces may
 * stand around the ':' ("display: none" hid text as well as
 * "display:none"), and the value must end there: "font-size:0.9em" is
 * small print, not hidden text. */
static int
css_is(const char *a, size_t n, const char *prop, const char *const *vals)
{
	size_t i = 0, pl = strlen(prop), k, v;
	const char *p;
	while (i < n && (p = find_ci(a + i, n - i, prop)) != NULL) {
		k = i = (size_t)(p - a) + pl;
		while (k < n && is_space((unsigned char)a[k]))
			k++;
		if (k >= n || a[k] != ':')
			continue;
		for (k++; k < n && is_space((unsigned char)a[k]); k++)
			;
		for (v = 0; vals[v]; v++) {
			size_t vl = strlen(vals[v]);
			if (starts_ci(a + k, n - k, vals[v]) && (k + vl == n || !((a[k + vl] >= '0' && a[k + vl] <= '9')
			    || (lc((unsigned char)a[k + vl]) >= 'a' && lc((unsigned char)a[k + vl]) <= 'z') || a[k + vl] == '.')))
				return 1;
		}
	}
	return 0;
}

/* Text a tag's style hides: display, visibility, a font too small to read,
 * full transparency. */
static int
hidden_style(const char *a, size_t n)
{
	static const char *const none[] = { "none", NULL }, *const hidden[] = { "hidden", NULL },
	    *const tiny[] = { "0", "0px", "0pt", "0em", "0%", "1px", NULL }, *const zero[] = { "0", NULL };
	return css_is(a, n, "display", none) || css_is(a, n, "visibility", hidden) || css_is(a, n, "font-size", tiny)
	    || css_is(a, n, "opacity", zero);
}

/* A link target as a browser reads it, into u: character references
 * decoded ("&#104;ttp://"), then tabs and line breaks removed anywhere and
 * spaces and controls trimmed at the ends (the URL standard's parser
 * does). 0, or -1 ENOMEM. */
/* An attribute value with its character references decoded, appended to
 * out: browsers decode them in attributes as in text. */
static void
attr_text(struct str *out, const char *v, size_t vl, int *err)
{
	size_t i = 0, run = 0;
	while (i < vl && !*err) {
		if (v[i] != '&') {
			i++;
			continue;
		}
		*err |= str_catb(out, v + run, i - run) < 0;
		i += entity(out, v + i, vl - i, err);
		run = i;
	}
	if (!*err)
		*err |= str_catb(out, v + run, vl - run) < 0;
}

static int
url_value(struct str *u, const char *v, size_t vl)
{
	size_t i, o = 0, st = 0;
	int err = 0;
	u->len = 0;
	attr_text(u, v, vl, &err);
	if (err)
		return -1;
	for (i = 0; i < u->len; i++)
		if (u->s[i] != '\t' && u->s[i] != '\n' && u->s[i] != '\r')
			u->s[o++] = u->s[i];
	while (o && (unsigned char)u->s[o - 1] <= 32)
		o--;
	while (st < o && (unsigned char)u->s[st] <= 32)
		st++;
	memmove(u->s, u->s + st, o - st);
	u->len = o - st;
	return 0;
}

/* Where a comment whose "<!--" ends at i stops, as browsers read it
 * (HTML's comment states): "<!-->" and "<!--->" are empty comments, and
 * "--!>" closes one as "-->" does. Searching only for "-->" from i made
 * "<!-->" swallow the visible text up to some later "-->": text a reader
 * sees and the filter did not. */
static size_t
comment_end(const char *in, size_t len, size_t i)
{
	size_t k;
	if (i < len && in[i] == '>')
		return i + 1;
	if (i + 1 < len && in[i] == '-' && in[i + 1] == '>')
		return i + 2;
	for (k = i; k + 2 < len; k++) {
		if (in[k] != '-' || in[k + 1] != '-')
			continue;
		if (in[k + 2] == '>')
			return k + 3;
		if (k + 3 < len && in[k + 2] == '!' && in[k + 3] == '>')
			return k + 4;
	}
	return len;
}

int
html_reduce(struct toks *t, struct str *text, const char *in, size_t len, struct html_info *hi)
{
	size_t i = 0, run = 0, aoff = 0, adl = 0;
	struct str url = STR_INIT;
	char adom[DOMAIN_MAX];
	int err = 0, ina = 0;
	memset(hi, 0, sizeof *hi);
	while (i < len && !err) {
		char name[TAG_NAME_MAX + 1];
		size_t nl = 0, a, gt, vl;
		const char *v, *end;
		int closing;
		if (in[i] == '&') {
			err |= str_catb(text, in + run, i - run) < 0;
			i += entity(text, in + i, len - i, &err);
			run = i;
			continue;
		}
		if (in[i] != '<') {
			i++;
			continue;
		}
		err |= str_catb(text, in + run, i - run) < 0;
		run = i;
		if (len - i >= 4 && !memcmp(in + i, "<!--", 4)) {
			i = comment_end(in, len, i + 4);
			run = i;
			continue;
		}
		a = i + 1;
		closing = a < len && in[a] == '/';
		a += (size_t)closing;
		while (a < len && nl < TAG_NAME_MAX
		    && ((in[a] >= 'a' && in[a] <= 'z') || (in[a] >= 'A' && in[a] <= 'Z') || (in[a] >= '0' && in[a] <= '9')))
			name[nl++] = (char)lc((unsigned char)in[a++]);
		name[nl] = 0;
		if (!nl && !(a < len && in[a] == '!')) {   /* a lone '<' is text */
			i++;
			continue;
		}
		if (nl) {
			gt = tag_end(in, len, a);
		} else {   /* "<!...>": a bogus comment, ends at the first '>' */
			end = memchr(in + a, '>', len - a);
			gt = end ? (size_t)(end - in) : len;
		}
		i = gt < len ? gt + 1 : len;
		run = i;
		if (closing && ina && !strcmp(name, "a")) {
			hi->mismatch += text_mismatch(text, aoff, adom, adl);
			ina = 0;
		}
		if (closing || !nl) {
			if (nl && is_block(name))
				err |= str_catc(text, ' ') < 0;
			continue;
		}
		/* tag names are not tokens: they tell the sending software, not spam (cross-validated) */
		if (is_block(name))
			err |= str_catc(text, ' ') < 0;
		if (!strcmp(name, "img"))
			hi->imgs++;
		if ((v = attr(in + a, gt - a, "href", &vl)) != NULL || (v = attr(in + a, gt - a, "src", &vl)) != NULL
		    || (v = attr(in + a, gt - a, "action", &vl)) != NULL) {
			hi->links++;
			if (url_value(&url, v, vl) < 0) {
				err = 1;
				break;
			}
			if (!strcmp(name, "a")) {
				ina = 1;
				aoff = text->len;
				adl = url_domain(url.s, url.len, adom);
			}
			/* the scheme in any case: "HtTp://" is a link too */
			if (url.len > 4 && (starts_ci(url.s, url.len, "http") || starts_ci(url.s, url.len, "www.")
			    || starts_ci(url.s, url.len, "mailto:")))
				err |= tok_url(t, url.s, url.len) < 0;
		}
		if ((v = attr(in + a, gt - a, "alt", &vl)) != NULL) {
			err |= str_catc(text, ' ') < 0;
			attr_text(text, v, vl, &err);
			err |= str_catc(text, ' ') < 0;
		}
		if ((v = attr(in + a, gt - a, "style", &vl)) != NULL && hidden_style(v, vl))
			hi->hidden++;
		/* a script's or style's body is no text; its tag's src (a
		 * remote script) was read above, as any link's */
		if (!strcmp(name, "script") || !strcmp(name, "style")) {
			end = find_ci(in + i, len - i, !strcmp(name, "script") ? "</script" : "</style");
			i = end ? (size_t)(end - in) : len;
			run = i;
		}
	}
	if (!err && run < len)
		err |= str_catb(text, in + run, len - run) < 0;
	str_free(&url);
	return err ? -1 : 0;
}
