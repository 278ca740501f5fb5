/* RFC 5322 / MIME parsing over a message in memory. Byte-level scanning
 * only; every index is checked against the caller's length, and the walk
 * is bounded in depth and entity count (see mime.h). */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include "base64.h"
#include "mime.h"

/* BOUNDARY_LONG: RFC 2046 allows 70 characters, but mail readers take
 * longer ones, so spam can use them; accepted up to what one 998-byte
 * line holds as "--boundary--". */
enum { MIME_DEPTH_HARD = 200, ICONV_CACHE = 16, EW_TEXT_MAX = 4096, BOUNDARY_LONG = 994, PARAM_SEGS = 1000 };

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
casecmpn(const char *a, size_t alen, const char *b)
{
	size_t i, blen = strlen(b);
	if (alen != blen)
		return 1;
	for (i = 0; i < alen; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return 1;
	return 0;
}

static size_t
line_end(const char *p, size_t len, size_t pos)
{
	const char *nl = memchr(p + pos, '\n', len - pos);
	return nl ? (size_t)(nl - p) + 1 : len;
}

/* The colon of a field "Name:" (or obsolete "Name :") on the line
 * [start, end), or end when the line is no field. */
static size_t
field_colon(const char *p, size_t end, size_t start, size_t *nameend)
{
	size_t i;
	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ':' || c <= 32 || c >= 127)
			break;
	}
	*nameend = i;
	while (i < end && is_wsp((unsigned char)p[i]))
		i++;   /* obsolete "Name :" */
	return *nameend == start || i >= end || p[i] != ':' ? end : i;
}

/* The header ends at the empty line, or before a line that is neither a
 * field nor a continuation (but an mbox "From " line first): mail
 * readers show that line on as the body, so it is not skipped as junk. */
void
mime_split(const char *msg, size_t len, size_t *hdrlen, size_t *bodyoff)
{
	size_t i = 0;
	while (i < len) {
		size_t end, nameend;
		if (msg[i] == '\n') {
			*hdrlen = i;
			*bodyoff = i + 1;
			return;
		}
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			*hdrlen = i;
			*bodyoff = i + 2;
			return;
		}
		end = line_end(msg, len, i);
		if (!is_wsp((unsigned char)msg[i]) && field_colon(msg, end, i, &nameend) == end
		    && !(i == 0 && end - i >= 5 && !memcmp(msg, "From ", 5))) {   /* an mbox line first stays header */
			*hdrlen = i;
			*bodyoff = i;
			return;
		}
		i = end;
	}
	*hdrlen = len;
	*bodyoff = len;
}

int
mime_field_next(const char *hdr, size_t hdrlen, size_t *pos, struct mime_field *f)
{
	while (*pos < hdrlen) {
		size_t start = *pos, end = line_end(hdr, hdrlen, start), i, nameend;
		*pos = end;
		if (is_wsp((unsigned char)hdr[start]))
			continue;   /* a continuation without a field */
		if ((i = field_colon(hdr, end, start, &nameend)) == end)
			continue;
		while (*pos < hdrlen && is_wsp((unsigned char)hdr[*pos]))
			*pos = line_end(hdr, hdrlen, *pos);
		f->name = hdr + start;
		f->namelen = nameend - start;
		f->value = hdr + i + 1;
		f->valuelen = *pos - (i + 1);
		while (f->valuelen && (f->value[f->valuelen - 1] == '\n' || f->value[f->valuelen - 1] == '\r'))
			f->valuelen--;
		return 1;
	}
	return 0;
}

int
mime_name_is(const struct mime_field *f, const char *name)
{
	return casecmpn(f->name, f->namelen, name) == 0;
}

int
mime_field_find(const char *hdr, size_t hdrlen, const char *name, struct mime_field *f)
{
	size_t pos = 0;
	while (mime_field_next(hdr, hdrlen, &pos, f))
		if (mime_name_is(f, name))
			return 1;
	return 0;
}

int
mime_unfold(struct str *out, const char *v, size_t len)
{
	size_t i = 0, start;
	while (len && (is_wsp((unsigned char)v[len - 1]) || v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	while (i < len && (is_wsp((unsigned char)v[i]) || v[i] == '\r' || v[i] == '\n'))
		i++;
	if (str_readyplus(out, len - i) < 0)
		return -1;
	for (start = i; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			if (str_catb(out, v + start, i - start) < 0)
				return -1;
			start = i + 1;
		}
	}
	return str_catb(out, v + start, len - start);
}

/* ---- charset conversion ---- */

static const unsigned short cp1252_hi[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0xfffd
};

static int
put_cp(struct str *out, unsigned cp)
{
	char b[3];
	if (cp < 0x80)
		return str_catc(out, (char)cp);
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return str_catb(out, b, 2);
	}
	b[0] = (char)(0xe0 | (cp >> 12));
	b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[2] = (char)(0x80 | (cp & 0x3f));
	return str_catb(out, b, 3);
}

/* Length of a valid UTF-8 sequence at p (n bytes available), 0 if none. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;   /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* Valid UTF-8 kept; any other byte read as windows-1252. */
static int
utf8_or_1252(struct str *out, const char *in, size_t len)
{
	size_t i = 0, start = 0;
	if (str_readyplus(out, len) < 0)
		return -1;
	while (i < len) {
		size_t k = utf8_len((const unsigned char *)in + i, len - i);
		unsigned c;
		if (k) {
			i += k;
			continue;
		}
		if (str_catb(out, in + start, i - start) < 0)
			return -1;
		c = (unsigned char)in[i];
		if (put_cp(out, c >= 0x80 && c < 0xa0 ? cp1252_hi[c - 0x80] : c) < 0)
			return -1;
		start = ++i;
	}
	return str_catb(out, in + start, len - start);
}

static struct {
	char name[MIME_TYPE_MAX];
	iconv_t cd;        /* (iconv_t)-1: unknown to iconv */
	int used;
} icache[ICONV_CACHE];
static unsigned icache_next;
static unsigned long iconv_opens;

unsigned long
mime_iconv_opens(void)
{
	return iconv_opens;
}

/* Opening a converter costs glibc loading its charset module (about
 * 100 us when the one evicted was the module's last user), so text that
 * rotates through more charsets than the cache holds cost that per
 * encoded word: 10 s per MB of such header fields. Opens are paid for
 * by text read (ICONV_EVERY bytes each, ICONV_BURST of them saved up);
 * a charset that finds no credit is read as an unknown one. */
enum { ICONV_EVERY = 4096, ICONV_BURST = 16 };
static unsigned long iconv_credit = (unsigned long)ICONV_EVERY * ICONV_BURST;

static void
iconv_earn(size_t n)
{
	unsigned long max = (unsigned long)ICONV_EVERY * ICONV_BURST;
	iconv_credit = n >= max - iconv_credit ? max : iconv_credit + n;
}

/* The converter for cs, from the cache or opened while credit lasts;
 * else (iconv_t)-1, as for a charset iconv lacks. */
static iconv_t
iconv_for(const char *cs)
{
	unsigned i;
	for (i = 0; i < ICONV_CACHE; i++)
		if (icache[i].used && strcmp(icache[i].name, cs) == 0)
			return icache[i].cd;
	if (iconv_credit < ICONV_EVERY)
		return (iconv_t)-1;
	iconv_credit -= ICONV_EVERY;
	i = icache_next++ % ICONV_CACHE;
	if (icache[i].used && icache[i].cd != (iconv_t)-1)
		iconv_close(icache[i].cd);
	memcpy(icache[i].name, cs, strlen(cs) + 1);
	icache[i].cd = iconv_open("UTF-8", cs);
	iconv_opens++;
	icache[i].used = 1;
	return icache[i].cd;
}

/* Labels mail writes for a charset that is, in practice, its superset
 * (as mail readers and the WHATWG Encoding Standard read them), or names
 * iconv does not know: Chinese "gb2312" text holds GBK characters, Korean
 * mail says "ks_c_5601-1987" for CP949, Japanese "shift_jis" holds CP932's
 * NEC and IBM characters. Read strictly, their letters became U+FFFD or
 * windows-1252 mojibake, other words than the same text sent as UTF-8. */
static const char *
charset_alias(const char *cs)
{
	static const struct { const char *label, *name; } alias[] = {
		{ "gb2312", "gb18030" }, { "gbk", "gb18030" }, { "x-gbk", "gb18030" }, { "gb_2312-80", "gb18030" },
		{ "csgb2312", "gb18030" }, { "chinese", "gb18030" }, { "cp936", "gb18030" }, { "windows-936", "gb18030" },
		{ "euc-cn", "gb18030" }, { "x-euc-cn", "gb18030" },
		{ "ks_c_5601-1987", "cp949" }, { "ks_c_5601-1989", "cp949" }, { "ksc5601", "cp949" },
		{ "ksc_5601", "cp949" }, { "korean", "cp949" }, { "euc-kr", "cp949" }, { "windows-949", "cp949" },
		{ "cseuckr", "cp949" }, { "csksc56011987", "cp949" }, { "iso-ir-149", "cp949" },
		{ "shift_jis", "cp932" }, { "shift-jis", "cp932" }, { "x-sjis", "cp932" }, { "sjis", "cp932" },
		{ "ms_kanji", "cp932" }, { "csshiftjis", "cp932" }, { "windows-31j", "cp932" }, { "ms932", "cp932" },
		{ "big5", "big5-hkscs" }, { "x-x-big5", "big5-hkscs" }, { "cn-big5", "big5-hkscs" }, { "csbig5", "big5-hkscs" },
		{ "iso-8859-8-i", "iso-8859-8" }, { "csiso88598i", "iso-8859-8" }, { "x-euc-jp", "euc-jp" },
		{ "tis-620", "cp874" }, { "iso-8859-11", "cp874" }, { "windows-874", "cp874" },
		{ "x-mac-roman", "macintosh" }, { "x-mac-cyrillic", "mac-cyrillic" }, { "unicode-1-1-utf-7", "utf-7" }
	};
	size_t i;
	for (i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (!strcmp(cs, alias[i].label))
			return alias[i].name;
	return cs;
}

static int
via_iconv(struct str *out, iconv_t cd, const char *in, size_t len)
{
	char *ip = (char *)in;
	size_t il = len;
	if (str_0(out) < 0)   /* out->s exists even when there is nothing to convert */
		return -1;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (il) {
		char *op;
		size_t ol, room = il * 2 + 16, r;
		if (str_readyplus(out, room) < 0)
			return -1;
		op = out->s + out->len;
		ol = room;
		r = iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->s);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated): one replacement, skip a byte */
		if (put_cp(out, 0xfffd) < 0)
			return -1;
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	out->s[out->len] = 0;
	return 0;
}

static int
to_utf8(struct str *out, const char *charset, const char *in, size_t len)
{
	char cs[MIME_TYPE_MAX];
	size_t i, n = charset ? strlen(charset) : 0;
	iconv_t cd;
	if (n == 0 || n >= sizeof cs)
		return utf8_or_1252(out, in, len);
	for (i = 0; i < n; i++) {
		int c = lc((unsigned char)charset[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':'))
			return utf8_or_1252(out, in, len);
		cs[i] = (char)c;
	}
	cs[n] = 0;
	if (!strcmp(cs, "us-ascii") || !strcmp(cs, "ascii") || !strcmp(cs, "utf-8") || !strcmp(cs, "utf8")
	    || !strcmp(cs, "iso-8859-1") || !strcmp(cs, "latin1") || !strcmp(cs, "windows-1252")
	    || !strcmp(cs, "unknown-8bit") || !strcmp(cs, "x-unknown"))
		return utf8_or_1252(out, in, len);   /* mislabelled 8-bit is usually 1252 */
	cd = iconv_for(charset_alias(cs));
	if (cd == (iconv_t)-1)
		return utf8_or_1252(out, in, len);
	return via_iconv(out, cd, in, len);
}

int
mime_utf8(struct str *out, const char *charset, const char *in, size_t len)
{
	iconv_earn(len);
	return to_utf8(out, charset, in, len);
}

/* ---- transfer encodings ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Stops once about max bytes are out (at most one more): padding costs
 * input, not output. */
static int
qp_decode(struct str *out, const char *in, size_t len, int header, size_t max)
{
	size_t i = 0, start = 0, base = out->len;
	if (str_readyplus(out, len < max ? len : max) < 0)
		return -1;
	while (i < len && out->len - base + (i - start) < max) {
		char c = in[i];
		if (c == '=') {
			size_t j;
			int h, l;
			if (str_catb(out, in + start, i - start) < 0)
				return -1;
			if (i + 2 < len && (h = hexval((unsigned char)in[i + 1])) >= 0
			    && (l = hexval((unsigned char)in[i + 2])) >= 0) {
				if (str_catc(out, (char)(h * 16 + l)) < 0)
					return -1;
				start = i += 3;
				continue;
			}
			for (j = i + 1; j < len && (is_wsp((unsigned char)in[j]) || in[j] == '\r'); j++)
				;
			if (j < len && in[j] == '\n') {   /* soft line break */
				start = i = j + 1;
				continue;
			}
			if (j == len) {                   /* "=" at the very end */
				start = i = len;
				continue;
			}
			start = i;
			i++;
			continue;
		}
		if (header && c == '_') {
			if (str_catb(out, in + start, i - start) < 0 || str_catc(out, ' ') < 0)
				return -1;
			start = ++i;
			continue;
		}
		if (!header && is_wsp((unsigned char)c)) {
			/* blanks ending a line were added in transport: RFC 2045
			 * 6.7 (3) has the decoder delete them. Stray CRs among
			 * them ("abc \r\r\n", from a gateway that doubled the CR)
			 * end the line as they do a soft break, and stay; a lone
			 * CR inside a line is no line end (rule 4), its blanks
			 * stay. Each run is looked at once: linear. */
			size_t j = i, k, room = max - (out->len - base + (i - start));
			while (j < len && (is_wsp((unsigned char)in[j]) || in[j] == '\r'))
				j++;
			if (j == len || in[j] == '\n') {
				if (str_catb(out, in + start, i - start) < 0)
					return -1;
				for (k = i; k < j && out->len - base < max; k++)
					if (in[k] == '\r' && str_catc(out, '\r') < 0)
						return -1;
				start = i = j;
			} else
				i = j - i > room ? i + room : j;
			continue;
		}
		i++;
	}
	return str_catb(out, in + start, i - start);
}

int
mime_qp_decode(struct str *out, const char *in, size_t len, int header)
{
	return qp_decode(out, in, len, header, SIZE_MAX);
}

/* How much of base64 text holds the groups for max bytes: junk, line
 * ends and padding cost input, not output. Counted as the lenient
 * decoder groups symbols: a group padded after 2 or 3 symbols ("QQ==")
 * yields fewer bytes than 4 symbols do, and the decoder goes on after
 * it, so a symbol count alone stopped short of max. */
static size_t
b64_span(const char *in, size_t n, size_t max)
{
	size_t i, got = 0;
	int g = 0;   /* symbols in the group so far */
	if (max >= n)
		return n;   /* n bytes decode to fewer */
	for (i = 0; i < n && got < max; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' && g >= 2) {
			got += (size_t)g - 1;
			g = 0;
		} else if (((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
		    || c == '/') && ++g == 4) {
			got += 3;
			g = 0;
		}
	}
	return i;
}

int
mime_cte(const char *v, size_t len)
{
	size_t i = 0;
	while (i < len && (is_wsp((unsigned char)v[i]) || v[i] == '\r' || v[i] == '\n'))
		i++;
	v += i;
	len -= i;
	for (i = 0; i < len && v[i] != ';' && v[i] != '(' && (unsigned char)v[i] > 32; i++)
		;
	len = i;
	if (!casecmpn(v, len, "7bit"))
		return MIME_CTE_7BIT;
	if (!casecmpn(v, len, "8bit"))
		return MIME_CTE_8BIT;
	if (!casecmpn(v, len, "binary"))
		return MIME_CTE_BINARY;
	if (!casecmpn(v, len, "quoted-printable"))
		return MIME_CTE_QP;
	if (!casecmpn(v, len, "base64"))
		return MIME_CTE_BASE64;
	return len ? MIME_CTE_OTHER : MIME_CTE_7BIT;
}

/* ---- encoded words ---- */

/* Where the text of an encoded word ends: the first "?=" or byte <= 32
 * at or after a position. One scan answers for every later start up to
 * the stop it found (no "?=" or control byte lies between), so a field
 * of many unterminated words ("=?a?q?x" repeated) is scanned once, not
 * once per word: linear, not quadratic. */
struct ew_scan {
	size_t from, stop;       /* [from, stop) holds no stop; stop == len: none up to the end */
	int valid;
};

static unsigned long ew_scanned;

unsigned long
mime_ew_scanned(void)
{
	return ew_scanned;
}

static size_t
ew_stop(const char *s, size_t len, size_t t, struct ew_scan *sc)
{
	size_t i;
	if (sc->valid && sc->from <= t && t <= sc->stop)
		return sc->stop;
	for (i = t; i + 1 < len; i++)
		if ((s[i] == '?' && s[i + 1] == '=') || (unsigned char)s[i] <= 32)
			break;
	ew_scanned += i - t;
	if (i + 1 >= len)
		i = len;   /* the last byte is never a stop: a word needs "?=" */
	sc->from = t;
	sc->stop = i;
	sc->valid = 1;
	return i;
}

/* "=?charset?E?text?=" at s + at: its length, or 0. */
static size_t
parse_ew(const char *s, size_t len, size_t at, struct ew_scan *sc, char *cs, int *enc, const char **txt,
    size_t *txtlen)
{
	const char *p = s + at;
	size_t n = len - at, i = 2, c0, k, e;
	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	for (c0 = i; i < n && p[i] != '?'; i++)
		if ((unsigned char)p[i] <= 32 || i - c0 >= MIME_TYPE_MAX - 1)
			return 0;
	ew_scanned += i - c0;
	if (i == c0 || i + 3 >= n || p[i + 2] != '?')
		return 0;
	*enc = lc((unsigned char)p[i + 1]);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	i += 3;
	e = ew_stop(s, len, at + i, sc);
	if (e >= len || s[e] != '?')
		return 0;   /* unterminated: plain text from its "=?" on */
	memcpy(cs, p + c0, i - 3 - c0);
	cs[i - 3 - c0] = 0;
	for (k = 0; cs[k]; k++) {
		cs[k] = (char)lc((unsigned char)cs[k]);   /* "UTF-8" and "utf-8" words join */
		if (cs[k] == '*')
			cs[k] = 0;   /* RFC 2231 language suffix */
	}
	*txt = p + i;
	*txtlen = e - (at + i);
	return *txtlen <= EW_TEXT_MAX ? e + 2 - at : 0;
}

static int
all_wsp(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!is_wsp((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Adjacent encoded words in one charset are decoded into one run of
 * bytes and converted once: mailers split a long Subject at any byte, so
 * one character can span two words ("caf=C3?= =?UTF-8?Q?=A9"), and
 * converting each word alone turned it into two replacement characters,
 * another word than the same text written in one piece. */
int
mime_decode_header(struct str *out, const char *v, size_t len)
{
	struct str u = STR_INIT, t = STR_INIT;
	struct ew_scan sc;
	char runcs[MIME_TYPE_MAX] = "";   /* charset of the run in t */
	size_t i = 0, plain = 0, start = out->len;
	int prev_ew = 0, rc = -1;
	memset(&sc, 0, sizeof sc);
	iconv_earn(len);
	if (mime_unfold(&u, v, len) < 0)
		goto done;
	while (i < u.len) {
		char cs[MIME_TYPE_MAX];
		const char *txt;
		size_t txtlen, n;
		int enc;
		if (u.s[i] != '=' || (n = parse_ew(u.s, u.len, i, &sc, cs, &enc, &txt, &txtlen)) == 0) {
			i++;
			continue;
		}
		if (!(prev_ew && all_wsp(u.s + plain, i - plain) && !strcmp(cs, runcs))) {
			if (t.len && to_utf8(out, runcs, t.s, t.len) < 0)
				goto done;
			t.len = 0;
			memcpy(runcs, cs, sizeof runcs);
			if (!(prev_ew && all_wsp(u.s + plain, i - plain)))
				if (mime_utf8(out, NULL, u.s + plain, i - plain) < 0)
					goto done;
		}
		if ((enc == 'b' ? base64_decode_lenient(&t, txt, txtlen) : mime_qp_decode(&t, txt, txtlen, 1)) < 0)
			goto done;
		i += n;
		plain = i;
		prev_ew = 1;
	}
	if (t.len && to_utf8(out, runcs, t.s, t.len) < 0)
		goto done;
	if (mime_utf8(out, NULL, u.s ? u.s + plain : "", u.len - plain) < 0)
		goto done;
	for (i = start; i < out->len; i++)
		if ((unsigned char)out->s[i] < 32 || out->s[i] == 127)
			out->s[i] = ' ';
	rc = 0;
done:
	str_free(&u);
	str_free(&t);
	return rc;
}

/* ---- Content-Type ---- */

static int
is_tspecial(int c)
{
	return c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* The end of the comment starting at v[i] == '(': nested, with
 * quoted-pairs (RFC 5322 3.2.2), bounded by len. */
static size_t
skip_comment(const char *v, size_t len, size_t i)
{
	size_t depth = 0;
	for (; i < len; i++) {
		if (v[i] == '\\' && i + 1 < len)
			i++;
		else if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* The end of the quoted string starting at v[i] == '"'. */
static size_t
skip_quoted(const char *v, size_t len, size_t i)
{
	for (i++; i < len && v[i] != '"'; i++)
		if (v[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

static size_t
skip_cfws(const char *v, size_t len, size_t i)
{
	for (;;) {
		while (i < len && ((unsigned char)v[i] <= 32))
			i++;
		if (i < len && v[i] == '(') {
			i = skip_comment(v, len, i);
			continue;
		}
		return i;
	}
}

/* The next ';' at or after i that separates parameters: one inside a
 * comment or a quoted string does not ("text/plain (a; b); charset=x"
 * was read as a parameter "b)"). A quoted string can hold '(' and a
 * comment '"'. */
static size_t
skip_to_semi(const char *v, size_t len, size_t i)
{
	while (i < len && v[i] != ';') {
		if (v[i] == '"')
			i = skip_quoted(v, len, i);
		else if (v[i] == '(')
			i = skip_comment(v, len, i);
		else
			i++;
	}
	return i;
}

static size_t
token(const char *v, size_t len, size_t i, char *out, size_t cap, int *ok)
{
	size_t n = 0;
	*ok = 1;
	for (; i < len && !is_tspecial((unsigned char)v[i]); i++) {
		if (n + 1 >= cap)
			*ok = 0;
		else
			out[n++] = (char)lc((unsigned char)v[i]);
	}
	out[n] = 0;
	if (n == 0)
		*ok = 0;
	return i;
}

int
mime_ctype(const char *v, size_t len, char *type, char *subtype)
{
	size_t i = skip_cfws(v, len, 0);
	int ok1, ok2;
	i = token(v, len, i, type, MIME_TYPE_MAX, &ok1);
	i = skip_cfws(v, len, i);
	if (!ok1 || i >= len || v[i] != '/') {
		type[0] = subtype[0] = 0;
		return -1;
	}
	i = skip_cfws(v, len, i + 1);
	token(v, len, i, subtype, MIME_TYPE_MAX, &ok2);
	if (!ok2) {
		type[0] = subtype[0] = 0;
		return -1;
	}
	return 0;
}

static int
pct_decode(struct str *out, const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		int h, l;
		if (p[i] == '%' && i + 2 < n && (h = hexval((unsigned char)p[i + 1])) >= 0
		    && (l = hexval((unsigned char)p[i + 2])) >= 0) {
			if (str_catc(out, (char)(h * 16 + l)) < 0)
				return -1;
			i += 2;
		} else if (str_catc(out, p[i]) < 0)
			return -1;
	}
	return 0;
}

/* The next "name=value" at *i (after the type/subtype when *i is 0):
 * name is v[*ns, *ne), the value unquoted into val. 1 one, 0 the end,
 * -1 ENOMEM. */
static int
next_param(const char *v, size_t len, size_t *i, size_t *ns, size_t *ne, struct str *val)
{
	size_t k = *i;
	if (k == 0)   /* skip the type/subtype (or disposition) */
		k = skip_to_semi(v, len, k);
	while (k < len) {
		k = skip_cfws(v, len, k);
		if (k < len && v[k] == ';') {
			k++;
			continue;
		}
		for (*ns = k; k < len && v[k] != '=' && v[k] != ';' && v[k] != '(' && (unsigned char)v[k] > 32; k++)
			;
		*ne = k;
		k = skip_cfws(v, len, k);
		if (k >= len || v[k] != '=') {
			k = skip_to_semi(v, len, k);
			continue;
		}
		k = skip_cfws(v, len, k + 1);
		val->len = 0;
		if (k < len && v[k] == '"') {
			for (k++; k < len && v[k] != '"'; k++) {
				if (v[k] == '\\' && k + 1 < len)
					k++;
				if (v[k] == '\r' || v[k] == '\n')
					continue;
				if (str_catc(val, v[k]) < 0)
					return -1;
			}
			if (k < len)
				k++;
		} else {
			/* A token, ended by a blank, ';' or a comment (RFC 2045:
			 * "charset=us-ascii (Plain text)" may lose its blank).
			 * Other tspecials stay: unquoted boundaries such as
			 * "=_NextPart..." or "a/b?c" are common, and mail readers
			 * take them whole. */
			size_t vs = k;
			while (k < len && v[k] != ';' && v[k] != '(' && (unsigned char)v[k] > 32)
				k++;
			if (str_catb(val, v + vs, k - vs) < 0)
				return -1;
		}
		*i = k;
		return str_0(val) < 0 ? -1 : 1;
	}
	*i = len;
	return 0;
}

int
mime_param_next(const char *v, size_t len, size_t *pos, struct str *name, struct str *value)
{
	size_t ns = 0, ne = 0;
	int r = next_param(v, len, pos, &ns, &ne, value);
	if (r != 1)
		return r;
	if (str_copyb(name, v + ns, ne - ns) < 0 || str_0(name) < 0)
		return -1;
	str_lower(name);
	return 1;
}

/* RFC 2231 segments may stand in any order (parameters are unordered):
 * one pass notes where the first of each number stands, then they are
 * joined in number order up to the first missing one. */
enum { SEG_EXT = 1, SEG_ONLY = 2, SEG_FIRST = 4 };

static int
param_segment(const char *v, size_t len, size_t at, int flags, struct str *val, struct str *out)
{
	size_t i = at, ns, ne;
	const char *p;
	size_t n;
	if (next_param(v, len, &i, &ns, &ne, val) != 1)
		return -1;   /* ENOMEM: it parsed the first time */
	if (!(flags & SEG_EXT))
		return str_catb(out, val->s, val->len);
	p = val->s;
	n = val->len;
	if (flags & SEG_FIRST) {   /* charset'lang'value */
		const char *q = memchr(p, '\'', n), *q2;
		if (q && (q2 = memchr(q + 1, '\'', n - (size_t)(q + 1 - p))) != NULL) {
			n -= (size_t)(q2 + 1 - p);
			p = q2 + 1;
		}
	}
	return pct_decode(out, p, n);
}

int
mime_param(const char *v, size_t len, const char *attr, struct str *out)
{
	size_t i = 0, at, alen = strlen(attr), ns = 0, ne = 0, plain = 0;
	size_t segat[PARAM_SEGS];
	unsigned char segflags[PARAM_SEGS], have[PARAM_SEGS];
	struct str val = STR_INIT;
	unsigned seg;
	int found = 0, r;
	memset(have, 0, sizeof have);
	out->len = 0;
	for (;;) {
		at = i;
		r = next_param(v, len, &i, &ns, &ne, &val);
		if (r != 1)
			break;
		if (ne - ns == alen && !casecmpn(v + ns, alen, attr)) {
			if (!found) {
				plain = at;
				found = 1;
			}
		} else if (ne - ns > alen && !casecmpn(v + ns, alen, attr) && v[ns + alen] == '*') {
			/* RFC 2231: attr*  attr*N  attr*N*  attr*0* */
			const char *s = v + ns + alen + 1, *e = v + ne;
			int flags = 0, hasnum = 0;
			seg = 0;
			while (s < e && *s >= '0' && *s <= '9' && seg < PARAM_SEGS) {
				seg = seg * 10 + (unsigned)(*s++ - '0');
				hasnum = 1;
			}
			if (s < e && *s == '*') {
				flags = SEG_EXT;
				s++;
			}
			if (!hasnum)
				flags = SEG_EXT | SEG_ONLY;   /* a single attr* is the whole value */
			if (s != e || seg >= PARAM_SEGS || have[seg])
				continue;
			have[seg] = 1;
			segat[seg] = at;
			segflags[seg] = (unsigned char)flags;
		}
	}
	if (r < 0)
		goto nomem;
	if (have[0]) {
		for (seg = 0; seg < PARAM_SEGS && have[seg]; seg++) {
			if (param_segment(v, len, segat[seg], segflags[seg] | (seg == 0 ? SEG_FIRST : 0), &val, out) < 0)
				goto nomem;
			if (segflags[seg] & SEG_ONLY)
				break;
		}
	} else if (found) {
		if (param_segment(v, len, plain, 0, &val, out) < 0)
			goto nomem;
	}
	str_free(&val);
	found |= have[0];
	if (found && str_0(out) < 0)
		return -1;
	return found;
nomem:
	str_free(&val);
	return -1;
}

/* ---- the walk ---- */

/* DECODED_PER_BYTE: message/rfc822 parts sent base64 or quoted-printable
 * are decoded to be walked; their copies together hold at most this many
 * bytes per byte of the message. Each level of nesting decodes to no more
 * than its parent holds, so a chain of them (base64 shrinks to 3/4 per
 * level: 3 times the message in all) would otherwise cost up to the
 * depth limit times the message, in memory and in delimiter search. */
enum { DECODED_PER_BYTE = 4 };

struct walk {
	struct mime_limits lim;
	mime_fn fn;
	void *arg;
	unsigned count;
	int flags;
	size_t decoded_left;     /* budget for decoded message/rfc822 copies */
};

static unsigned long delim_scanned;

unsigned long
mime_delim_scanned(void)
{
	return delim_scanned;
}

/* Is "--boundary" (blen bytes, known to stand at k) a delimiter line:
 * followed by "--" (close), transport padding and the line end? */
static int
delim_line(const char *b, size_t n, size_t k, size_t blen, size_t *after, int *close)
{
	size_t e = k + blen;
	*close = 0;
	if (e + 1 < n && b[e] == '-' && b[e + 1] == '-') {
		*close = 1;
		e += 2;
	}
	while (e < n && (is_wsp((unsigned char)b[e]) || b[e] == '\r'))
		e++;
	if (e < n && b[e] != '\n')
		return 0;   /* a longer boundary that merely starts the same */
	*after = e < n ? e + 1 : n;
	return 1;
}

/* Next delimiter line at or after pos (a line start): its offset, the
 * offset after its line, and whether it closes. delim is "\n--boundary":
 * with the line break in the needle, memmem finds line starts only, and
 * the matches cannot overlap (a boundary holds no line break), so the
 * search is linear; without it, a line of dashes under a boundary of
 * dashes matched at every byte, each match costing the boundary's
 * length. */
static int
find_delim(const char *b, size_t n, size_t pos, const char *delim, size_t dlen,
    size_t *at, size_t *after, int *close)
{
	size_t k = pos;
	delim_scanned += dlen;
	if (n - pos >= dlen - 1 && memcmp(b + pos, delim + 1, dlen - 1) == 0
	    && delim_line(b, n, pos, dlen - 1, after, close)) {
		*at = pos;
		return 1;
	}
	while (k < n) {
		const char *d = memmem(b + k, n - k, delim, dlen);
		size_t from = k;
		if (!d) {
			delim_scanned += n - k;
			return 0;
		}
		k = (size_t)(d - b) + 1;
		delim_scanned += k - from + dlen;
		if (delim_line(b, n, k, dlen - 1, after, close)) {
			*at = k;
			return 1;
		}
	}
	return 0;
}

static void entity(struct walk *, const char *, size_t, unsigned, int);
static void encoded_message(struct walk *, const struct mime_part *, unsigned);

static void
children(struct walk *w, const char *b, size_t n, const char *delim, size_t dlen,
    size_t first_after, unsigned depth, int digest)
{
	size_t start = first_after, at, after;
	int close;
	for (;;) {
		size_t end;
		if (w->flags & (MIME_E_STOPPED | MIME_E_PARTS))
			return;
		if (!find_delim(b, n, start, delim, dlen, &at, &after, &close)) {
			w->flags |= MIME_E_UNTERMINATED;
			entity(w, b + start, n - start, depth, digest);
			return;
		}
		end = at;   /* the line break before the delimiter belongs to it */
		if (end > start && b[end - 1] == '\n')
			end--;
		if (end > start && b[end - 1] == '\r')
			end--;
		entity(w, b + start, end - start, depth, digest);
		if (close)
			return;
		start = after;
	}
}

static void
entity(struct walk *w, const char *p, size_t len, unsigned depth, int digest)
{
	struct mime_part part;
	struct mime_field f;
	struct str bnd = STR_INIT;
	char delim[BOUNDARY_LONG + 4];
	size_t hl, bo, dlen = 0, first_at = 0, first_after = 0;
	int close = 0;
	if (w->flags & MIME_E_STOPPED)
		return;
	if (w->count >= w->lim.parts) {
		w->flags |= MIME_E_PARTS;
		return;
	}
	memset(&part, 0, sizeof part);
	part.depth = depth;
	part.index = w->count++;
	mime_split(p, len, &hl, &bo);
	part.header = p;
	part.headerlen = hl;
	part.body = p + bo;
	part.bodylen = len - bo;
	strcpy(part.type, digest ? "message" : "text");
	strcpy(part.subtype, digest ? "rfc822" : "plain");
	if (mime_field_find(p, hl, "content-type", &f)) {
		char t[MIME_TYPE_MAX], s[MIME_TYPE_MAX];
		if (mime_ctype(f.value, f.valuelen, t, s) == 0) {
			memcpy(part.type, t, sizeof t);
			memcpy(part.subtype, s, sizeof s);
		}
		if (mime_param(f.value, f.valuelen, "charset", &bnd) == 1 && bnd.len < MIME_TYPE_MAX) {
			size_t k;
			for (k = 0; k < bnd.len; k++)
				part.charset[k] = (char)lc((unsigned char)bnd.s[k]);
			part.charset[bnd.len] = 0;
		}
		if (!strcmp(part.type, "multipart")) {
			int r = mime_param(f.value, f.valuelen, "boundary", &bnd);
			if (r == 1 && bnd.len >= 1 && bnd.len <= BOUNDARY_LONG && !memchr(bnd.s, '\n', bnd.len)) {
				delim[0] = '\n';
				delim[1] = delim[2] = '-';
				memcpy(delim + 3, bnd.s, bnd.len);
				dlen = bnd.len + 3;
			}
		}
	}
	str_free(&bnd);
	if (mime_field_find(p, hl, "content-transfer-encoding", &f))
		part.cte = mime_cte(f.value, f.valuelen);
	if (!strcmp(part.type, "multipart")) {
		if (!dlen || !find_delim(part.body, part.bodylen, 0, delim, dlen, &first_at, &first_after, &close)) {
			w->flags |= MIME_E_NOBOUNDARY;
			dlen = 0;
		} else if (depth + 1 >= w->lim.depth) {
			w->flags |= MIME_E_DEPTH;
			dlen = 0;
		}
		part.multipart = dlen != 0;
	}
	if (w->fn(w->arg, &part)) {
		w->flags |= MIME_E_STOPPED;
		return;
	}
	if (part.multipart) {
		if (close)
			return;   /* "--b--" first: no parts */
		children(w, part.body, part.bodylen, delim, dlen, first_after, depth + 1,
		    !strcmp(part.subtype, "digest"));
	} else if (!strcmp(part.type, "message") && (!strcmp(part.subtype, "rfc822") || !strcmp(part.subtype, "global"))) {
		if (depth + 1 >= w->lim.depth)
			w->flags |= MIME_E_DEPTH;
		else if (part.cte == MIME_CTE_BASE64 || part.cte == MIME_CTE_QP)
			encoded_message(w, &part, depth + 1);
		else
			entity(w, part.body, part.bodylen, depth + 1, 0);
	}
}

/* A message/rfc822 part sent base64 or quoted-printable (RFC 2046 5.2.1
 * forbids it, but mailers write it and readers decode it): left encoded,
 * the message inside went unread, so spam wrapped in one was never
 * seen. Its decoded copy is walked (the parts it holds point into the
 * copy, which lives until they are visited), its first decoded_left
 * bytes at most. Without memory it is not entered, as a walk has no
 * error to report. */
static void
encoded_message(struct walk *w, const struct mime_part *part, unsigned depth)
{
	struct str d = STR_INIT;
	/* one byte past the budget tells a copy cut short from one that fit */
	size_t max = w->decoded_left < SIZE_MAX ? w->decoded_left + 1 : SIZE_MAX;
	if (mime_body(&d, part, 0, max) == 0) {
		if (d.len > w->decoded_left) {
			w->flags |= MIME_E_BUDGET;
			d.len = w->decoded_left;
		}
		w->decoded_left -= d.len;
		entity(w, d.s ? d.s : "", d.len, depth, 0);
	}
	str_free(&d);
}

int
mime_walk(const char *msg, size_t len, const struct mime_limits *lim, mime_fn fn, void *arg)
{
	struct walk w;
	memset(&w, 0, sizeof w);
	w.lim.depth = lim ? lim->depth : MIME_DEPTH_MAX;
	w.lim.parts = lim ? lim->parts : MIME_PARTS_MAX;
	w.lim.bytes = lim ? lim->bytes : 0;
	if (w.lim.depth > MIME_DEPTH_HARD)
		w.lim.depth = MIME_DEPTH_HARD;   /* keeps the recursion's stack bounded */
	w.fn = fn;
	w.arg = arg;
	w.decoded_left = len <= SIZE_MAX / DECODED_PER_BYTE ? len * DECODED_PER_BYTE : SIZE_MAX;
	entity(&w, msg, len, 0, 0);
	return w.flags;
}

int
mime_body(struct str *out, const struct mime_part *part, int utf8, size_t max)
{
	struct str t = STR_INIT;
	const char *in = part->body;
	size_t n = part->bodylen;
	int rc = -1;
	switch (part->cte) {
	case MIME_CTE_BASE64:
		if (base64_decode_lenient(&t, in, b64_span(in, n, max)) < 0)
			goto done;
		break;
	case MIME_CTE_QP:
		if (qp_decode(&t, in, n, 0, max) < 0)
			goto done;
		break;
	default:
		if (n > max)
			n = max;
		if (str_catb(&t, in, n) < 0)
			goto done;
	}
	if (t.len > max)
		t.len = max;
	if (utf8 && (!strcmp(part->type, "text") || part->type[0] == 0))
		rc = mime_utf8(out, part->charset, t.s ? t.s : "", t.len);
	else
		rc = str_catb(out, t.s ? t.s : "", t.len);
done:
	str_free(&t);
	return rc;
}
