/* Tokeniser: header token spaces, MIME-decoded bodies, URLs, word pairs,
 * structural rules. See token.h for the bounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "html.h"
#include "mime.h"
#include "token.h"

enum {
	HDR_FIELDS_MAX = 400,     /* top-level fields looked at */
	HDR_VALUE_MAX = 16384,    /* raw bytes of one field value */
	HDR_WORDS_MAX = 40,       /* tokens from one generic field */
	BODY_WORDS_MAX = 60000    /* words from all text parts */
};

static const char gtube[] = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

uint64_t
tok_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	/* splitmix64 finaliser: spreads FNV's weak high bits for the table search */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void
toks_init(struct toks *t)
{
	const char *a = getenv("SPAMCHECK_AUTHSERV");
	memset(t, 0, sizeof *t);
	t->authserv = a && *a ? a : NULL;
}

void
toks_reset(struct toks *t)
{
	t->n = 0;
	t->text.len = 0;
	t->gtube = 0;
	t->urls = 0;
	t->textbytes = 0;
	t->pairs = TOK_PAIRS;
	t->kind = 0;
	if (t->slot)
		memset(t->slot, 0, t->nslot * sizeof *t->slot);
}

void
toks_free(struct toks *t)
{
	free(t->v);
	free(t->slot);
	str_free(&t->text);
	toks_init(t);
}

static int
toks_grow(struct toks *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024, nslot = ncap * 2, i;
	struct tok *v;
	uint32_t *slot;
	if (ncap > TOK_MAX * 2)
		ncap = TOK_MAX * 2;
	v = realloc(t->v, ncap * sizeof *v);
	if (!v)
		return -1;
	t->v = v;
	slot = calloc(nslot, sizeof *slot);
	if (!slot)
		return -1;
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	t->cap = ncap;
	for (i = 0; i < t->n; i++) {
		size_t k = (size_t)t->v[i].h & (nslot - 1);
		while (slot[k])
			k = (k + 1) & (nslot - 1);
		slot[k] = (uint32_t)i + 1;
	}
	return 0;
}

int
toks_add2(struct toks *t, const char *prefix, const char *w, size_t len)
{
	char b[TOK_TEXT_MAX * 2 + 16];
	size_t pl = strlen(prefix), k;
	uint64_t h;
	if (pl + len > sizeof b)
		len = sizeof b - pl;
	memcpy(b, prefix, pl);
	memcpy(b + pl, w, len);
	len += pl;
	h = tok_hash(b, len);
	if (t->n >= TOK_MAX || (t->n >= TOK_MAX - TOK_RULE_ROOM && !(len >= 2 && b[0] == 'R' && b[1] == ':')))
		return 0;
	if (t->n + 1 > t->cap || !t->slot)   /* slots stay at most half full */
		if (toks_grow(t) < 0)
			return -1;
	k = (size_t)h & (t->nslot - 1);
	while (t->slot[k]) {
		if (t->v[t->slot[k] - 1].h == h)
			return 0;
		k = (k + 1) & (t->nslot - 1);
	}
	t->v[t->n].h = h;
	t->v[t->n].off = (uint32_t)t->text.len;
	t->v[t->n].len = (uint16_t)len;
	t->v[t->n].pair = (uint8_t)t->kind;
	if (str_catb(&t->text, b, len) < 0)
		return -1;
	t->slot[k] = (uint32_t)++t->n;
	return 0;
}

static int
toks_add(struct toks *t, const char *s)
{
	return toks_add2(t, "", s, strlen(s));
}

/* Fields other filters and mail stores add: verdicts (a forged "X-Spam-
 * Status: No" or a real one from the last hop) must not be evidence, in
 * training or classification. Vendors put their verdicts under their own
 * names (X-Barracuda-Spam-Score, X-MailScanner-SpamCheck, X-Proofpoint-
 * Spam-Details, X-Acme-MailScanner-SpamScore), so a name containing one
 * of verdict_word anywhere, or starting with a scanner's prefix, is
 * ignored; the store's own fields only as whole names. */
int
tok_header_ignored(const char *name, size_t len)
{
	static const char *const verdict_word[] = { "spam", "bogosity", "virus", "junk", "mailscanner" };
	static const char *const pfx[] = {
		"x-dspam", "x-crm114", "x-amavis", "x-ham-", "x-rspamd", "x-barracuda", "x-ironport",
		"x-proofpoint", "x-pm-", "x-sa-", "x-quarantine", "x-asg-", "x-policyd", "x-greylist", "x-razor",
		"x-pyzor", "x-dcc-", "x-mozilla-status", "x-evolution", "x-mimecast", "x-forefront", "x-av-",
		"x-ms-exchange-organization-scl", "x-ui-filterresults", "x-kse-", "x-sophos", "x-mailcleaner"
	};
	static const char *const whole[] = { "x-uid", "x-keywords", "x-status", "status", "content-length",
		"lines", "delivered-to", "x-original-to" };
	size_t i, k;
	for (i = 0; i < sizeof pfx / sizeof pfx[0]; i++)
		if (starts_ci(name, len, pfx[i]))
			return 1;
	for (i = 0; i < sizeof whole / sizeof whole[0]; i++)
		if (len == strlen(whole[i]) && starts_ci(name, len, whole[i]))
			return 1;
	for (k = 0; k < len; k++)
		for (i = 0; i < sizeof verdict_word / sizeof verdict_word[0]; i++)
			if (starts_ci(name + k, len - k, verdict_word[i]))
				return 1;
	return 0;
}

/* ---- words and URLs ---- */

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
word_start(int c)
{
	return is_alnum(c) || c >= 0x80 || c == '$';
}

static int
word_inner(int c)
{
	return word_start(c) || c == '-' || c == '.' || c == '\'' || c == '_' || c == ',' || c == '!' || c == '%';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
starts_ci(const char *s, size_t n, const char *p)
{
	size_t i, pl = strlen(p);
	if (n < pl)
		return 0;
	for (i = 0; i < pl; i++)
		if (lower((unsigned char)s[i]) != p[i])
			return 0;
	return 1;
}

static size_t
url_len(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 32 || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')' || c == ']' || c == '}')
			break;
	}
	return i;
}

static int
hex_digit(int c)
{
	c = lower(c);
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
tok_url(struct toks *t, const char *u, size_t n)
{
	char host[TOK_TEXT_MAX];
	size_t i = 0, hl = 0, dots = 0, k, lab;
	int digits_only = 1, mailto = 0;
	/* as browsers parse http(s) URLs (the URL standard): any run of '/'
	 * or backslashes after the scheme, a backslash ends the host as '/'
	 * does, and %XX in the host is its byte. Read otherwise,
	 * "http://spam.example\@good.example" named the good site (a browser
	 * visits the spam one) and "http:\\spam.example" no site at all. */
	if (starts_ci(u, n, "https:"))
		i = 6;
	else if (starts_ci(u, n, "http:"))
		i = 5;
	else if (starts_ci(u, n, "mailto:"))
		i = 7, mailto = 1;
	if (i && !mailto)
		while (i < n && (u[i] == '/' || u[i] == '\\'))
			i++;
	t->urls++;
	/* host: up to / \ ? # : ; userinfo before '@' is dropped (a lure; in
	 * a mailto: link it is the mailbox, no lure) */
	for (k = i; k < n && u[k] != '/' && u[k] != '\\' && u[k] != '?' && u[k] != '#'; k++)
		if (u[k] == '@') {
			if (!mailto && toks_add(t, "R:url-userinfo") < 0)
				return -1;
			i = k + 1;
		}
	for (; i < n && hl < sizeof host - 1; i++) {
		int c = lower((unsigned char)u[i]), h, l;
		if (c == '%' && i + 2 < n && (h = hex_digit((unsigned char)u[i + 1])) >= 0
		    && (l = hex_digit((unsigned char)u[i + 2])) >= 0) {
			c = lower(h * 16 + l);
			i += 2;
		}
		if (c == '/' || c == '\\' || c == '?' || c == '#' || c == ':' || c == '>' || c <= 32)
			break;
		if (c == '.')
			dots++;
		else if (!(c >= '0' && c <= '9'))
			digits_only = 0;
		host[hl++] = (char)c;
	}
	while (hl && host[hl - 1] == '.')
		hl--;
	if (!hl)
		return 0;
	if (digits_only && dots == 3)
		return toks_add(t, "R:url-ip");
	if (toks_add2(t, "U:", host, hl) < 0)
		return -1;
	/* the registered-looking domain: last two (and three) labels */
	for (k = hl, lab = 0; k > 0; k--)
		if (host[k - 1] == '.' && ++lab >= 2)
			break;
	if (lab >= 2 && toks_add2(t, "U:", host + k, hl - k) < 0)
		return -1;
	for (k = hl, lab = 0; k > 0; k--)
		if (host[k - 1] == '.' && ++lab >= 3)
			break;
	if (lab >= 3 && toks_add2(t, "U:", host + k, hl - k) < 0)
		return -1;
	return 0;
}

/* The UTF-8 length of an invisible character (html_invisible) at s, or 0:
 * "vi\u00ADagra" is the word "viagra". They are all two or three bytes. */
static size_t
invisible_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n >= 2 && (u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80)
		return html_invisible((u[0] & 0x1fu) << 6 | (u[1] & 0x3fu)) ? 2 : 0;
	if (n >= 3 && (u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80)
		return html_invisible((u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu)) ? 3 : 0;
	return 0;
}

/* A two-byte UTF-8 letter at s lower-cased into w (two bytes): Latin-1,
 * Latin Extended-A (Polish, Czech, Turkish...), Greek and Cyrillic
 * capitals, so that "ЗДЕСЬ" is the word "здесь" as "HERE" is "here".
 * Those whose small letter is one byte (U+0130) or that have none stay.
 * Returns 2. */
static size_t
fold2(const char *s, char *w)
{
	unsigned cp = ((unsigned char)s[0] & 0x1fu) << 6 | ((unsigned char)s[1] & 0x3fu);
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
	    || (cp >= 0x410 && cp <= 0x42f))
		cp += 0x20;
	else if (cp >= 0x400 && cp <= 0x40f)
		cp += 0x50;
	else if (cp == 0x178)
		cp = 0xff;   /* Ÿ ÿ */
	else if ((cp >= 0x100 && cp <= 0x12f) || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
		cp |= 1;     /* capital even, small odd */
	else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		cp += cp & 1;   /* capital odd, small even */
	w[0] = (char)(0xc0 | cp >> 6);
	w[1] = (char)(0x80 | (cp & 0x3f));
	return 2;
}

/* Unicode spaces and typographic punctuation in decoded text become their
 * ASCII kin, in place, as html.c's entities do: a no-break space glued
 * "cheap\u00a0pills" into one word, and curly quotes made "\u201cfree\u201d"
 * and "don\u2019t" other words than "free" and "don't", the same text as
 * text/plain or &rsquo; writes it. Fullwidth forms (U+FF01-FF5E,
 * "\uff36\uff29\uff21\uff27\uff32\uff21") are the ASCII they are drawn
 * as, a spammer's way to write a word no filter learnt. Invisible
 * characters (html_invisible) go. No replacement is longer than what it
 * replaces. */
static void
ascii_kin(struct str *s)
{
	size_t i = 0, o = 0, n = s->len;
	unsigned char *p = (unsigned char *)s->s;
	while (i < n) {
		const char *r = NULL;
		size_t used = invisible_at((const char *)p + i, n - i), k;
		if (used) {   /* dropped before words are cut: three between letters made a word too long to keep */
			i += used;
			continue;
		}
		if (p[i] == 0xc2 && i + 1 < n && (p[i + 1] == 0xa0 || p[i + 1] == 0xab || p[i + 1] == 0xbb))
			r = p[i + 1] == 0xa0 ? " " : "\"", used = 2;   /* no-break space, guillemets */
		else if (p[i] == 0xe2 && i + 2 < n && p[i + 1] == 0x80) {
			unsigned char b = p[i + 2];
			used = 3;
			if ((b >= 0x80 && b <= 0x8a) || b == 0xaf || b == 0xa2)
				r = " ";      /* U+2000-200A spaces, narrow no-break space, bullet */
			else if (b >= 0x98 && b <= 0x9b)
				r = "'";
			else if (b >= 0x9c && b <= 0x9f)
				r = "\"";
			else if (b == 0x93 || b == 0x94)
				r = " - ";
			else if (b == 0xa6)
				r = "...";
		} else if (i + 2 < n && p[i] == 0xef && ((p[i + 1] == 0xbc && p[i + 2] >= 0x81 && p[i + 2] <= 0xbf)
		    || (p[i + 1] == 0xbd && p[i + 2] >= 0x80 && p[i + 2] <= 0x9e))) {
			/* U+FF01-FF5E: U+0021-007E + 0xFEE0 */
			p[o++] = (unsigned char)((p[i + 2] & 0x3f) + (p[i + 1] == 0xbc ? 0x20 : 0x60));
			i += 3;
			continue;
		} else if (i + 2 < n && ((p[i] == 0xe2 && p[i + 1] == 0x81 && p[i + 2] == 0x9f)
		    || (p[i] == 0xe3 && p[i + 1] == 0x80 && p[i + 2] == 0x80))) {
			r = " ";          /* medium mathematical space, ideographic space */
			used = 3;
		}
		if (!r) {
			p[o++] = p[i++];
			continue;
		}
		for (k = 0; r[k]; k++)
			p[o++] = (unsigned char)r[k];
		i += used;
	}
	s->len = o;
}

struct wordctx {
	char prev[TOK_TEXT_MAX];
	size_t prevlen;
	unsigned count;
};

/* Words of s (UTF-8, through ascii_kin) as prefix tokens; pairs adds
 * adjacent pairs. */
static int
words(struct toks *t, const char *prefix, const char *s, size_t n, int pairs, unsigned max, struct wordctx *wc)
{
	size_t i = 0;
	char w[TOK_TEXT_MAX], pp[TOK_TEXT_MAX * 2 + 2];
	struct wordctx local;
	int body = wc != NULL;   /* body words make regression-only pairs */
	if (!wc) {
		memset(&local, 0, sizeof local);
		wc = &local;
	}
	while (i < n && wc->count < max) {
		size_t st, e, wl, k;
		unsigned char c = (unsigned char)s[i];
		if (!word_start(c)) {
			i++;
			continue;
		}
		if ((c == 'h' || c == 'H' || c == 'w' || c == 'W')
		    && (starts_ci(s + i, n - i, "http://") || starts_ci(s + i, n - i, "https://")
			|| starts_ci(s + i, n - i, "www."))) {
			size_t ul = url_len(s + i, n - i);
			if (tok_url(t, s + i, ul) < 0)
				return -1;
			i += ul;
			wc->prevlen = 0;
			continue;
		}
		for (st = i; i < n && word_inner((unsigned char)s[i]); i++)
			;
		e = i;
		while (e > st && !word_start((unsigned char)s[e - 1]))
			e--;
		wl = e - st;
		if (wl > TOK_TEXT_MAX - 8) {
			char lb[16];
			size_t bucket = wl / 16;
			lb[0] = 'l';
			lb[1] = (char)('0' + (bucket > 9 ? 9 : bucket));
			lb[2] = 0;
			if (toks_add2(t, prefix, lb, 2) < 0)
				return -1;
			wc->prevlen = 0;
			continue;
		}
		if (wl < 2 || (wl == 2 && s[st] == '$'))
			continue;
		for (k = 0, e = st + wl; st < e; st++) {
			if (st + 1 < e && (unsigned char)s[st] >= 0xc3 && (unsigned char)s[st] <= 0xd0
			    && ((unsigned char)s[st + 1] & 0xc0) == 0x80) {
				k += fold2(s + st, w + k);
				st++;
				continue;
			}
			w[k++] = (char)lower((unsigned char)s[st]);
		}
		if ((wl = k) < 2)
			continue;
		wc->count++;
		if (toks_add2(t, prefix, w, wl) < 0)
			return -1;
		if ((pairs || (body && t->pairs)) && wc->prevlen) {
			int r;
			memcpy(pp, wc->prev, wc->prevlen);
			pp[wc->prevlen] = ' ';
			memcpy(pp + wc->prevlen + 1, w, wl);
			t->kind = !pairs;
			r = toks_add2(t, prefix, pp, wc->prevlen + 1 + wl);
			t->kind = 0;
			if (r < 0)
				return -1;
			if (!pairs)
				t->pairs--;
		}
		memcpy(wc->prev, w, wl);
		wc->prevlen = wl;
	}
	return 0;
}

/* ---- headers ---- */

/* "C:type/subtype" */
static int
add_type(struct toks *t, const char *ty, const char *st)
{
	char ts[MIME_TYPE_MAX * 2 + 2];
	size_t tl = strlen(ty), sl = strlen(st);
	memcpy(ts, ty, tl);
	ts[tl] = '/';
	memcpy(ts + tl + 1, st, sl);
	return toks_add2(t, "C:", ts, tl + 1 + sl);
}

/* "8.12.5": a software version, not a host (an address has three dots) */
static int
is_version(const char *s, size_t n)
{
	size_t i, dots = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (!(s[i] >= '0' && s[i] <= '9'))
			return 0;
	}
	return dots != 3;
}

/* The shape of a header value: letter runs become 'a', digit runs '9',
 * other bytes stay (at most TOK_TEXT_MAX - 8): the format the sending
 * software writes ("a, 9 a 9 9:9:9 -9"), not the values. Of the Date
 * field: spamware's formats differ from mail programs' (cross-validated
 * and on a temporal split; Message-ID, priority and transfer-encoding
 * tokens were tried too, and did not help both). */
static size_t
shape(const char *s, size_t n, char *out)
{
	size_t i, o = 0;
	for (i = 0; i < n && o < TOK_TEXT_MAX - 8; i++) {
		int c = (unsigned char)s[i], k = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? 'a'
		    : c >= '0' && c <= '9' ? '9' : c >= 0x80 ? '8' : c;
		if ((k == 'a' || k == '9' || k == '8') && o && out[o - 1] == k)
			continue;
		out[o++] = (char)k;
	}
	return o;
}

#define SITE_MAX 64
#define SITES_MAX 8

struct msgstat {
	int has_date, has_msgid, has_subject, has_to, has_from;
	unsigned received, nreceived;
	int html_parts, text_parts, other_parts, att_exec, hidden, imgs, mismatch, sparse;
	size_t html_text, plain_text;
	unsigned caps, letters;
	unsigned money, bangs, spaced;   /* amounts, "!!" runs, words spelt out (count_shape) */
	/* sites (last two labels) of From, Reply-To, and of To, Cc and
	 * List-Post, for the replyto-foreign rule */
	char from_site[SITE_MAX], rt_site[SITE_MAX], near_site[SITES_MAX][SITE_MAX];
	unsigned nnear;
};

/* Capitals and letters, as count_caps, and amounts ("$12", "50%"), "!!"
 * runs and words spelt out letter by letter ("f r e e ") in decoded
 * text: the shape of a sales pitch in any words, for the money-, bangs-
 * and spaced-out rules. One pass. */
static void
count_shape(struct msgstat *ms, const char *s, size_t n)
{
	size_t i, run = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'a' && c <= 'z')
			ms->letters++;
		else if (c >= 'A' && c <= 'Z')
			ms->letters++, ms->caps++;
		else {
			run = 0;
			if (c == '$' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
				ms->money++;
			else if (c == '%' && i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
				ms->money++;
			else if (c == '!' && i + 1 < n && s[i + 1] == '!' && (i == 0 || s[i - 1] != '!'))
				ms->bangs++;
			continue;
		}
		/* a letter alone between spaces, the fourth in a row */
		if (i + 1 < n && s[i + 1] == ' ' && (i == 0 || s[i - 1] == ' ')) {
			if (++run == 4)
				ms->spaced++;
			i++;
		} else
			run = 0;
	}
}

static void
count_caps(const char *s, size_t n, unsigned *caps, unsigned *letters)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			++*caps, ++*letters;
		else if (c >= 'a' && c <= 'z')
			++*letters;
	}
}

/* Subjects padded with a run of spaces (a tag pushed out of sight) or
 * ending in a tag of letters and digits ("[eew58]", "netf5f8m1"): what
 * bulk mailers add to make each copy unique, and no mail program writes.
 * Evidence that does not depend on vocabulary: on a temporal split
 * (tests/bench/spamcheck-temporal) a padded subject marked 14% of spam
 * of both eras and no ham. */
static int
subj_shape(struct toks *t, const char *s, size_t n)
{
	size_t i, run = 0, e, b, dig = 0, let = 0;
	for (i = 0; i < n; i++) {
		run = s[i] == ' ' ? run + 1 : 0;
		if (run == 5 && toks_add(t, "R:subj-pad") < 0)
			return -1;
	}
	for (e = n; e > 0 && (s[e - 1] == ' ' || s[e - 1] == ']' || s[e - 1] == ')' || s[e - 1] == '\t'); e--)
		;
	for (b = e; b > 0 && is_alnum((unsigned char)s[b - 1]); b--)
		if (s[b - 1] >= '0' && s[b - 1] <= '9')
			dig++;
		else
			let++;
	if (e - b >= 4 && e - b <= 12 && dig && let && b > 0 && (s[b - 1] == ' ' || s[b - 1] == '[' || s[b - 1] == '('))
		return toks_add(t, "R:subj-tag");
	return 0;
}

/* Does the From address's local part run letters into three or more
 * digits ("sales4521@")? Made-up senders (a fifth of spam, 1-2% of
 * ham). */
static int
from_digits(const char *s, size_t n)
{
	const char *lt = memchr(s, '<', n), *at;
	size_t i, d = 0, st;
	if (lt) {
		n -= (size_t)(lt + 1 - s);
		s = lt + 1;
	}
	if (!(at = memchr(s, '@', n)))
		return 0;
	for (st = (size_t)(at - s); st > 0 && s[st - 1] != ' ' && s[st - 1] != '"' && s[st - 1] != '<'; st--)
		;
	for (i = st; s + i < at; i++) {
		if (s[i] < '0' || s[i] > '9')
			d = 0;
		else if (++d >= 3 && i - d + 1 > st && lower((unsigned char)s[i - d]) >= 'a'
		    && lower((unsigned char)s[i - d]) <= 'z')
			return 1;
	}
	return 0;
}

/* The site of the address whose '@' is at s[at]: its last two labels,
 * lower-cased ("mail.ryanair.com" -> "ryanair.com"). Crude for co.uk,
 * but it errs towards "same site", which never makes the rule fire. */
static void
site_of(const char *s, size_t n, size_t at, char out[SITE_MAX])
{
	size_t st = at + 1, e = st, dots[2] = { 0, 0 }, nd = 0, k;
	while (e < n && (is_alnum((unsigned char)s[e]) || s[e] == '.' || s[e] == '-'))
		e++;
	while (e > st && s[e - 1] == '.')
		e--;
	out[0] = 0;
	if (e == st)
		return;
	for (k = e; k > st; k--)
		if (s[k - 1] == '.' && nd < 2)
			dots[nd++] = k;
	if (nd == 2)
		st = dots[1];
	if (e - st >= SITE_MAX)
		return;
	for (k = st; k < e; k++)
		out[k - st] = (char)lower((unsigned char)s[k]);
	out[e - st] = 0;
}

/* The site of a mailbox field's address: inside the last <...>, else the
 * first '@'. */
static void
mailbox_site(const char *s, size_t n, char out[SITE_MAX])
{
	const char *lt = NULL, *at;
	size_t k;
	for (k = 0; k < n; k++)
		if (s[k] == '<')
			lt = s + k;
	if (!lt)
		lt = s;
	at = memchr(lt, '@', n - (size_t)(lt - s));
	out[0] = 0;
	if (at)
		site_of(s, n, (size_t)(at - s), out);
}

/* Every address's site in an address list (To, Cc, List-Post), up to
 * SITES_MAX in all. */
static void
near_sites(struct msgstat *ms, const char *s, size_t n)
{
	const char *at;
	size_t k = 0;
	while (ms->nnear < SITES_MAX && k < n && (at = memchr(s + k, '@', n - k))) {
		k = (size_t)(at - s);
		site_of(s, n, k, ms->near_site[ms->nnear]);
		if (ms->near_site[ms->nnear][0])
			ms->nnear++;
		k++;
	}
}

/* Reply-To on a site that is neither the sender's nor any recipient's or
 * list's: replies go somewhere the message does not otherwise name, a
 * mark of mail sent from borrowed or throwaway addresses. */
static int
replyto_foreign(const struct msgstat *ms)
{
	unsigned i;
	if (!ms->rt_site[0] || !strcmp(ms->rt_site, ms->from_site))
		return 0;
	for (i = 0; i < ms->nnear; i++)
		if (!strcmp(ms->rt_site, ms->near_site[i]))
			return 0;
	return 1;
}

static int
header_field(struct toks *t, struct msgstat *ms, const struct mime_field *f, struct str *v)
{
	char name[32], pfx[MIME_TYPE_MAX + 8];   /* fits every prefix made below */
	size_t nl = f->namelen < sizeof name - 1 ? f->namelen : sizeof name - 1, k;
	size_t rawlen = f->valuelen < HDR_VALUE_MAX ? f->valuelen : HDR_VALUE_MAX;
	for (k = 0; k < nl; k++)
		name[k] = (char)lower((unsigned char)f->name[k]);
	name[nl] = 0;
	if (toks_add2(t, "H:", name, nl) < 0)
		return -1;
	for (k = 0; k < rawlen; k++)
		if ((unsigned char)f->value[k] >= 0x80) {
			if (toks_add(t, "R:hdr-8bit") < 0)
				return -1;
			break;
		}
	v->len = 0;
	if (mime_decode_header(v, f->value, rawlen) < 0)
		return -1;
	ascii_kin(v);
	if (!strcmp(name, "subject")) {
		unsigned caps = 0, letters = 0;
		ms->has_subject = 1;
		count_caps(v->s, v->len, &caps, &letters);
		if (letters >= 8 && caps * 10 >= letters * 7 && toks_add(t, "R:subj-caps") < 0)
			return -1;
		if (v->len == 0 && toks_add(t, "R:subj-empty") < 0)
			return -1;
		if (memchr(v->s ? v->s : "", '!', v->len) && toks_add(t, "R:subj-bang") < 0)
			return -1;
		if (subj_shape(t, v->s ? v->s : "", v->len) < 0)
			return -1;
		return words(t, "S:", v->s, v->len, 1, HDR_WORDS_MAX, NULL);
	}
	if (!strcmp(name, "date")) {
		char sh[TOK_TEXT_MAX];
		ms->has_date = 1;
		/* its format only: times would teach the corpus's age */
		return toks_add2(t, "DS:", sh, shape(v->s ? v->s : "", v->len, sh));
	}
	if (!strcmp(name, "message-id")) {
		const char *at = memchr(v->s ? v->s : "", '@', v->len);
		ms->has_msgid = 1;
		if (!at)
			return toks_add(t, "R:msgid-nodomain");
		return words(t, "M:", at + 1, v->len - (size_t)(at + 1 - v->s), 0, 4, NULL);
	}
	if (!strcmp(name, "received")) {
		/* host names and addresses only: ids and dates are noise */
		const char *s = v->s ? v->s : "";
		/* the last two hops of a longer chain are the origin's (a
		 * list's or forwarder's hops sit above them): their own space */
		const char *hp = ++ms->received + 2 > ms->nreceived && ms->nreceived > 2 ? "Ro:" : "Rh:";
		size_t i = 0, n = v->len;
		unsigned cnt = 0;
		while (i < n && cnt < 12) {
			size_t st;
			while (i < n && !is_alnum((unsigned char)s[i]))
				i++;
			for (st = i; i < n && (is_alnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-'); i++)
				;
			if (i - st >= 4 && memchr(s + st, '.', i - st) && i - st < TOK_TEXT_MAX
			    && !is_version(s + st, i - st)) {
				char h[TOK_TEXT_MAX];
				size_t hl = i - st, j;
				for (j = 0; j < hl; j++)
					h[j] = (char)lower((unsigned char)s[st + j]);
				if (toks_add2(t, hp, h, hl) < 0)
					return -1;
				cnt++;
			}
		}
		return 0;
	}
	if (!strcmp(name, "from") || !strcmp(name, "reply-to") || !strcmp(name, "sender")
	    || !strcmp(name, "return-path")) {
		if (!strcmp(name, "reply-to") && !ms->rt_site[0])
			mailbox_site(v->s ? v->s : "", v->len, ms->rt_site);
		if (!strcmp(name, "from")) {
			if (!ms->has_from)
				mailbox_site(v->s ? v->s : "", v->len, ms->from_site);
			ms->has_from = 1;
			if (from_digits(v->s ? v->s : "", v->len) && toks_add(t, "R:from-digits") < 0)
				return -1;
		}
		/* F: From, P: Return-Path, E: Reply-To and Sender */
		const char *sp = name[0] == 'f' ? "F:" : !strcmp(name, "return-path") ? "P:" : "E:";
		return words(t, sp, v->s, v->len, 0, HDR_WORDS_MAX, NULL);
	}
	if (!strcmp(name, "to") || !strcmp(name, "cc")) {
		size_t commas = 0;
		ms->has_to |= name[0] == 't';
		near_sites(ms, v->s ? v->s : "", v->len);
		for (k = 0; k < v->len; k++)
			commas += v->s[k] == ',';
		if (commas >= 10 && toks_add(t, "R:rcpt-many") < 0)
			return -1;
		if (v->len && strstr(v->s, "ndisclosed") && toks_add(t, "R:rcpt-undisclosed") < 0)
			return -1;
		return words(t, "To:", v->s, v->len, 0, HDR_WORDS_MAX, NULL);
	}
	if (!strcmp(name, "authentication-results") || !strcmp(name, "received-spf")) {
		/* upstream SPF/DKIM/DMARC verdicts: "spf=pass" etc. become evidence */
		static const char *const meth[] = { "spf", "dkim", "dmarc", "arc" };
		size_t m;
		if (name[0] == 'r') {
			size_t wl = 0;
			if (t->authserv)
				return 0;   /* only our own border's Authentication-Results are trusted */
			while (wl < v->len && is_alnum((unsigned char)v->s[wl]))
				wl++;
			return wl && wl < 16 ? toks_add2(t, "A:spf=", v->s, wl) : 0;
		}
		if (t->authserv) {   /* RFC 8601 5: a field from another authserv-id may be forged */
			size_t il = 0, al = strlen(t->authserv);
			while (il < v->len && v->s[il] != ';' && v->s[il] != ' ')
				il++;
			if (il != al || strncasecmp(v->s, t->authserv, al))
				return 0;
		}
		for (m = 0; m < sizeof meth / sizeof meth[0]; m++) {
			char key[8];
			const char *p;
			size_t kl = strlen(meth[m]);
			memcpy(key, meth[m], kl);
			key[kl] = '=';
			key[kl + 1] = 0;
			if (!v->len || !(p = strstr(v->s, key)))
				continue;
			p += kl + 1;
			for (k = 0; p + k < v->s + v->len && is_alnum((unsigned char)p[k]) && k < 12; k++)
				;
			snprintf(pfx, sizeof pfx, "A:%s=", meth[m]);
			if (k && toks_add2(t, pfx, p, k) < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(name, "content-type")) {
		char ty[MIME_TYPE_MAX], st[MIME_TYPE_MAX];
		struct str cs = STR_INIT;
		int r = 0;
		if (mime_ctype(f->value, rawlen, ty, st) == 0)
			r = add_type(t, ty, st);
		if (r == 0 && mime_param(f->value, rawlen, "charset", &cs) == 1 && cs.len < TOK_TEXT_MAX) {
			str_lower(&cs);
			r = toks_add2(t, "CS:", cs.s, cs.len);
		}
		str_free(&cs);
		return r;
	}
	if (!strcmp(name, "list-post")) {
		near_sites(ms, v->s ? v->s : "", v->len);
		return 0;
	}
	if (!strcmp(name, "x-mailer") || !strcmp(name, "user-agent"))
		return words(t, "X:", v->s, v->len, 0, 6, NULL);
	return 0;   /* other fields count by presence (H:) only: their values mostly name software and sites */
}

static int
key_field_unseen(const struct msgstat *ms, const struct mime_field *f)
{
	return (mime_name_is(f, "subject") && !ms->has_subject) || (mime_name_is(f, "from") && !ms->has_from)
	    || (mime_name_is(f, "to") && !ms->has_to) || (mime_name_is(f, "date") && !ms->has_date)
	    || (mime_name_is(f, "message-id") && !ms->has_msgid);
}

static int
headers(struct toks *t, struct msgstat *ms, const char *h, size_t hl)
{
	struct mime_field f;
	struct str v = STR_INIT;
	size_t pos = 0;
	unsigned n = 0;
	int rc = 0;
	while (n < HDR_FIELDS_MAX && mime_field_next(h, hl, &pos, &f)) {   /* count the hops first */
		n++;
		ms->nreceived += f.namelen == 8 && !strncasecmp(f.name, "received", 8);
	}
	pos = 0;
	n = 0;
	while (mime_field_next(h, hl, &pos, &f)) {
		if (tok_header_ignored(f.name, f.namelen))
			continue;   /* not counted: other filters' fields must not push real ones out */
		/* past HDR_FIELDS_MAX, still the first Subject, From, To, Date
		 * and Message-ID: 400 filler fields hid them from the filter */
		if (n >= HDR_FIELDS_MAX && !key_field_unseen(ms, &f))
			continue;
		n++;
		if ((rc = header_field(t, ms, &f, &v)) < 0)
			break;
	}
	str_free(&v);
	return rc;
}

/* ---- bodies ---- */

struct walkctx {
	struct toks *t;
	struct msgstat *ms;
	struct str body, text, raw;
	/* the charset in force at each depth: a part's own, else its
	 * container's (senders label the multipart and not its parts) */
	char cs[MIME_DEPTH_MAX][MIME_TYPE_MAX];
	struct wordctx wc;
	int err;
};

static int
is_exec_name(const char *s, size_t n)
{
	static const char *const ext[] = { ".exe", ".scr", ".pif", ".bat", ".com", ".cmd", ".vbs",
		".js", ".jar", ".lnk", ".hta", ".wsf", ".cpl", ".msi", ".iso", ".img" };
	size_t i;
	for (i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t el = strlen(ext[i]);
		if (n >= el && starts_ci(s + n - el, el, ext[i]))
			return 1;
	}
	return 0;
}

/* HTML sent as text/plain or without a Content-Type: reduced as HTML too,
 * else its tag and attribute names would be tokens that HTML parts never
 * give (and which then look like ham) */
static int
looks_html(const char *s, size_t n)
{
	static const char *const tag[] = { "<html", "<body", "<!doctype html", "<head>" };
	size_t i, k;
	if (n > 4096)
		n = 4096;
	for (i = 0; i < n; i++) {
		if (s[i] != '<')
			continue;
		for (k = 0; k < sizeof tag / sizeof tag[0]; k++)
			if (starts_ci(s + i, n - i, tag[k]))
				return 1;
	}
	return 0;
}

/* charset=NAME in an HTML <meta> tag near the start of s, into cs
 * (MIME_TYPE_MAX, lower case): 1 found, 0 not */
static int
meta_charset(const char *s, size_t n, char *cs)
{
	size_t i, k;
	if (n > 4096)
		n = 4096;
	for (i = 0; i + 5 < n; i++) {
		size_t e;
		if (s[i] != '<' || !starts_ci(s + i + 1, n - i - 1, "meta"))
			continue;
		for (e = i; e < n && s[e] != '>'; e++)
			;
		for (k = i; k + 8 < e; k++)
			if (starts_ci(s + k, e - k, "charset=")) {
				size_t l = 0;
				k += 8;
				while (k < e && (s[k] == '"' || s[k] == '\'' || s[k] == ' '))
					k++;
				while (k + l < e && l < MIME_TYPE_MAX - 1
				    && (is_alnum((unsigned char)s[k + l]) || s[k + l] == '-' || s[k + l] == '_'
					|| s[k + l] == '.' || s[k + l] == ':'))
					cs[l] = (char)lower((unsigned char)s[k + l]), l++;
				cs[l] = 0;
				return l > 0;
			}
		i = e;
	}
	return 0;
}

static int
weak_charset(const char *cs)
{
	return !cs[0] || !strcmp(cs, "us-ascii");
}

/* Decode a text part to UTF-8 into c->body. A part that names no charset
 * (or only us-ascii, which 8-bit text then contradicts) is read in the
 * charset its HTML <meta> names, else its container's: Cyrillic or
 * Chinese text labelled only there was read as windows-1252, and its
 * words were mojibake that match nothing learnt from labelled mail. */
static int
part_text(struct walkctx *c, const struct mime_part *p)
{
	const char *cs = p->charset;
	char meta[MIME_TYPE_MAX];
	if (!weak_charset(cs))
		return mime_body(&c->body, p, 1, TOK_PART_BYTES);
	c->raw.len = 0;
	if (mime_body(&c->raw, p, 0, TOK_PART_BYTES) < 0)
		return -1;
	if (!strcmp(p->subtype, "html") && meta_charset(c->raw.s ? c->raw.s : "", c->raw.len, meta))
		cs = meta;
	else if (p->depth < MIME_DEPTH_MAX)
		cs = c->cs[p->depth];
	return mime_utf8(&c->body, cs, c->raw.s ? c->raw.s : "", c->raw.len);
}

static int
part_fn(void *arg, const struct mime_part *p)
{
	struct walkctx *c = arg;
	struct toks *t = c->t;
	struct mime_field f;
	struct str fn = STR_INIT;
	int attach = 0;
	if (p->depth > 0 && toks_add2(t, "C:", p->type, strlen(p->type)) < 0)
		goto nomem;
	if (p->depth > 0) {
		if (add_type(t, p->type, p->subtype) < 0)
			goto nomem;
		if (p->charset[0] && toks_add2(t, "CS:", p->charset, strlen(p->charset)) < 0)
			goto nomem;
	}
	if (mime_field_find(p->header, p->headerlen, "content-disposition", &f)) {
		size_t sp = 0;
		while (sp < f.valuelen && (f.value[sp] == ' ' || f.value[sp] == '\t'))
			sp++;
		attach = starts_ci(f.value + sp, f.valuelen - sp, "attachment");
		if (mime_param(f.value, f.valuelen, "filename", &fn) < 0)
			goto nomem;
	}
	if (!fn.len && mime_field_find(p->header, p->headerlen, "content-type", &f)
	    && mime_param(f.value, f.valuelen, "name", &fn) < 0)
		goto nomem;
	if (fn.len && memmem(fn.s, fn.len, "=?", 2)) {
		/* an encoded word in a quoted name (not RFC 2047, but what
		 * Outlook and Gmail write, and mail readers decode): else
		 * "=?us-ascii?Q?invoice.exe?=" ended in "?=", no executable */
		struct str d = STR_INIT;
		int r = mime_decode_header(&d, fn.s, fn.len);
		if (r == 0)
			r = str_copyb(&fn, d.s ? d.s : "", d.len);
		str_free(&d);
		if (r < 0)
			goto nomem;
	}
	while (fn.len && (fn.s[fn.len - 1] == '.' || fn.s[fn.len - 1] == ' '))
		fn.len--;   /* Windows drops them: "invoice.exe. " is invoice.exe */
	if (fn.len) {
		const char *dot = NULL;
		size_t k;
		for (k = 0; k < fn.len; k++)
			if (fn.s[k] == '.')
				dot = fn.s + k;
		if (is_exec_name(fn.s, fn.len) && toks_add(t, "R:att-exec") < 0)
			goto nomem;
		if (dot && fn.len - (size_t)(dot - fn.s) <= 6) {
			struct str lo = STR_INIT;
			int r = str_copyb(&lo, dot, fn.len - (size_t)(dot - fn.s));
			if (r == 0) {
				str_lower(&lo);
				r = toks_add2(t, "Fx:", lo.s, lo.len);
			}
			str_free(&lo);
			if (r < 0)
				goto nomem;
		}
		attach = 1;
	}
	str_free(&fn);
	if (p->depth < MIME_DEPTH_MAX)   /* the charset in force, for this part and those inside it */
		memcpy(c->cs[p->depth], weak_charset(p->charset) && p->depth ? c->cs[p->depth - 1] : p->charset,
		    MIME_TYPE_MAX);
	if (p->multipart || (!strcmp(p->type, "message") && p->depth + 1 < MIME_DEPTH_MAX && p->bodylen))
		return 0;
	if (!strcmp(p->type, "image"))
		c->ms->imgs++;
	if (strcmp(p->type, "text") && strcmp(p->type, "multipart")) {
		c->ms->other_parts++;
		return 0;
	}
	if (attach && strcmp(p->subtype, "plain") && strcmp(p->subtype, "html"))
		return 0;
	if (t->textbytes >= TOK_TEXT_BYTES)
		return 0;
	c->body.len = 0;
	if (part_text(c, p) < 0)
		goto nomem;
	if (c->body.len > TOK_TEXT_BYTES - t->textbytes)
		c->body.len = TOK_TEXT_BYTES - t->textbytes;
	t->textbytes += c->body.len;
	if (!t->gtube && c->body.len >= sizeof gtube - 1 && memmem(c->body.s, c->body.len, gtube, sizeof gtube - 1))
		t->gtube = 1;
	if (!strcmp(p->subtype, "html") || (c->body.len > 6 && looks_html(c->body.s, c->body.len))) {
		struct html_info hi;
		c->ms->html_parts++;
		c->text.len = 0;
		if (html_reduce(t, &c->text, c->body.s, c->body.len, &hi) < 0)
			goto nomem;
		ascii_kin(&c->text);
		c->ms->html_text += c->text.len;
		c->ms->imgs += hi.imgs;
		c->ms->hidden += hi.hidden;
		c->ms->mismatch += hi.mismatch;
		/* under a tenth of a sizeable HTML part is visible text */
		c->ms->sparse += c->body.len > 2000 && c->text.len * 10 < c->body.len;
		count_shape(c->ms, c->text.s, c->text.len);
		c->wc.prevlen = 0;
		return words(t, "", c->text.s, c->text.len, 0, BODY_WORDS_MAX, &c->wc) < 0 ? (c->err = 1) : 0;
	}
	ascii_kin(&c->body);
	c->ms->text_parts++;
	c->ms->plain_text += c->body.len;
	count_shape(c->ms, c->body.s, c->body.len);
	c->wc.prevlen = 0;
	return words(t, "", c->body.s, c->body.len, 0, BODY_WORDS_MAX, &c->wc) < 0 ? (c->err = 1) : 0;
nomem:
	str_free(&fn);
	c->err = 1;
	return 1;
}

static int
rules(struct toks *t, const struct msgstat *ms, int mimeflags)
{
	static const char *const ub[] = { "R:urls-0", "R:urls-1", "R:urls-2", "R:urls-4", "R:urls-8", "R:urls-16" };
	unsigned u = t->urls, b = 0;
	const char *r[24];
	size_t n = 0, i;
	while (u > 1 && b < 5)
		u >>= 1, b++;
	if (t->urls)
		b++;
	if (b > 5)
		b = 5;
	r[n++] = ub[b];
	if (!ms->has_date)
		r[n++] = "R:no-date";
	if (!ms->has_msgid)
		r[n++] = "R:no-msgid";
	if (!ms->has_subject)
		r[n++] = "R:no-subject";
	if (!ms->has_to)
		r[n++] = "R:no-to";
	if (ms->html_parts && !ms->text_parts)
		r[n++] = "R:html-only";
	if (!ms->html_parts && !ms->text_parts)
		r[n++] = "R:no-text";
	if (ms->html_parts && ms->imgs && ms->html_text < 200 && ms->plain_text < 200)
		r[n++] = "R:img-only";
	if (ms->hidden)
		r[n++] = "R:html-hidden";
	if (ms->letters >= 200 && ms->caps * 10 >= ms->letters * 4)
		r[n++] = "R:body-caps";
	if (mimeflags)
		r[n++] = "R:mime-anomaly";
	if (ms->mismatch)
		r[n++] = "R:link-mismatch";
	if (ms->sparse)
		r[n++] = "R:html-sparse";
	/* amounts per 1,000 letters: none, a few, many */
	r[n++] = !ms->money ? "R:money-0" : (size_t)ms->money * 1000 < (size_t)ms->letters * 5 ? "R:money-1" : "R:money-2";
	if (ms->bangs)
		r[n++] = ms->bangs >= 3 ? "R:bangs-3" : "R:bangs-1";
	if (ms->spaced)
		r[n++] = "R:spaced-out";
	if (replyto_foreign(ms))
		r[n++] = "R:replyto-foreign";
	for (i = 0; i < n; i++)
		if (toks_add(t, r[i]) < 0)
			return -1;
	return 0;
}

int
tokenize(struct toks *t, const char *msg, size_t len)
{
	struct walkctx c;
	struct msgstat ms;
	struct mime_limits lim = { MIME_DEPTH_MAX, MIME_PARTS_MAX, TOK_PART_BYTES };
	size_t hl, bo;
	int flags;
	toks_reset(t);
	if (len >= 5 && !memcmp(msg, "From ", 5)) {   /* an mbox envelope line */
		const char *nl = memchr(msg, '\n', len);
		size_t skip = nl ? (size_t)(nl - msg) + 1 : len;
		msg += skip;
		len -= skip;
	}
	memset(&ms, 0, sizeof ms);
	memset(&c, 0, sizeof c);
	c.t = t;
	c.ms = &ms;
	mime_split(msg, len, &hl, &bo);
	if (headers(t, &ms, msg, hl) < 0)
		goto nomem;
	flags = mime_walk(msg, len, &lim, part_fn, &c);
	if (c.err)
		goto nomem;
	if (rules(t, &ms, flags & ~MIME_E_STOPPED) < 0)
		goto nomem;
	str_free(&c.body);
	str_free(&c.text);
	str_free(&c.raw);
	return 0;
nomem:
	str_free(&c.body);
	str_free(&c.text);
	str_free(&c.raw);
	errno = ENOMEM;
	return -1;
}
