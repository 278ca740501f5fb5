/* Unit tests for lib/mime: header fields, encoded words, parameters,
 * transfer decodings, charsets, and the bounded walk over hostile trees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "mime.h"
#include "str.h"
#include "tap.h"

struct seen {
	unsigned n, leaves, maxdepth;
	struct str text;   /* decoded text of the leaves, concatenated */
};

static int
collect(void *arg, const struct mime_part *p)
{
	struct seen *s = arg;
	s->n++;
	if (p->depth > s->maxdepth)
		s->maxdepth = p->depth;
	if (!p->multipart) {
		s->leaves++;
		if (mime_body(&s->text, p, 1, 1 << 20) < 0)
			return 1;
		str_catc(&s->text, '|');
	}
	return 0;
}

static int
walk(const char *m, size_t len, struct seen *s)
{
	memset(s, 0, sizeof *s);
	return mime_walk(m, len, NULL, collect, s);
}

static void
test_fields(void)
{
	const char *h = "From: a@b\r\nSubject: one\r\n two\r\n\tthree\r\nbogus line\r\n"
	    " stray\r\nX-Empty:\r\nSubject : second\r\n\r\nbody";
	size_t hl, bo, pos = 0;
	struct mime_field f;
	struct str s = STR_INIT;
	int n = 0;
	{
		const char *x = strstr(h, "X-Empty:");
		mime_split(x, strlen(x), &hl, &bo);
		is_str(x + bo, "body", "split finds the body after CRLF CRLF");
	}
	hl = (size_t)(strstr(h, "\r\n\r\n") + 2 - h);   /* a header block given whole, junk included */
	while (mime_field_next(h, hl, &pos, &f))
		n++;
	is_int(n, 4, "four fields, junk lines skipped");
	ok(mime_field_find(h, hl, "SUBJECT", &f), "find is case-insensitive");
	mime_unfold(&s, f.value, f.valuelen);
	str_0(&s);
	is_str(s.s, "one two\tthree", "unfolding keeps the whitespace, drops line ends");
	mime_split("Subject: no body", 16, &hl, &bo);
	is_int(bo, 16, "no separator: all header");
	mime_split("\nbody", 5, &hl, &bo);
	ok(hl == 0 && bo == 1, "empty header");
	str_free(&s);
}

static void
test_words(void)
{
	struct str s = STR_INIT;
	const char *v = "=?UTF-8?B?SGVsbG8=?= =?ISO-8859-1?Q?W=F6rld_x?= plain =?bogus?X?zz?= \x01z";
	mime_decode_header(&s, v, strlen(v));
	str_0(&s);
	is_str(s.s, "HelloW\xc3\xb6rld x plain =?bogus?X?zz?=  z", "encoded words, adjacent space dropped, controls blanked");
	s.len = 0;
	v = "=?x-no-such-charset?Q?caf=E9?= =?utf-8?B?!!!?=";
	ok(mime_decode_header(&s, v, strlen(v)) == 0, "unknown charset and bad base64 are not errors");
	str_0(&s);
	is_str(s.s, "caf\xc3\xa9", "unknown charset falls back to windows-1252");
	s.len = 0;
	/* one character split over two adjacent words in one charset */
	s.len = 0;
	v = "=?UTF-8?Q?caf=C3?= =?utf-8?Q?=A9?=\r\n =?utf-8?B?0L/R?= =?UTF-8?B?gNC40LLQtQ==?= x";
	ok(mime_decode_header(&s, v, strlen(v)) == 0, "split characters decode");
	str_0(&s);
	is_str(s.s, "caf\xc3\xa9\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5 x",
	    "a character split over adjacent encoded words is one character");
	s.len = 0;
	v = "=?utf-8?Q?caf=C3?= and =?iso-8859-1?Q?=E9?= =?utf-8?Q?x?=";
	mime_decode_header(&s, v, strlen(v));
	str_0(&s);
	is_str(s.s, "caf\xc3\x83 and \xc3\xa9x", "words apart, or in other charsets, are converted apart");
	s.len = 0;
	v = "=?iso-2022-jp?B?GyRCJEgbKEI=?=";
	mime_decode_header(&s, v, strlen(v));
	str_0(&s);
	is_str(s.s, "\xe3\x81\xa8", "iso-2022-jp through iconv");
	str_free(&s);
}

/* Many unterminated encoded words in one field ("=?a?q?x" repeated up to
 * token.c's 16 KiB cap) were each scanned to the field's end: quadratic.
 * The scanner's byte count must stay linear in the field. */
static void
test_words_linear(void)
{
	struct str v = STR_INIT, s = STR_INIT;
	unsigned long before;
	size_t i, k;
	for (i = 0; i + 7 <= 16384; i += 7)
		str_cats(&v, "=?a?q?x");
	before = mime_ew_scanned();
	ok(mime_decode_header(&s, v.s, v.len) == 0, "16 KiB of unterminated encoded words decode");
	is_mem(s.s, s.len, v.s, v.len, "unterminated encoded words are plain text");
	ok(mime_ew_scanned() - before <= 2 * v.len, "and cost linear work (at most 2 scanned bytes per byte)");
	if (mime_ew_scanned() - before > 2 * v.len)
		printf("#   scanned %lu bytes for %zu\n", mime_ew_scanned() - before, v.len);
	/* runs of them ended by spaces (a stop that is not "?="), then a real word */
	v.len = 0;
	for (k = 0; k < 8; k++) {
		for (i = 0; i < 280; i++)
			str_cats(&v, "=?a?q?x");
		str_catc(&v, ' ');
	}
	str_cats(&v, "=?utf-8?q?caf=C3=A9?=");
	s.len = 0;
	before = mime_ew_scanned();
	ok(mime_decode_header(&s, v.s, v.len) == 0 && s.len >= 5 && !memcmp(s.s + s.len - 5, "caf\xc3\xa9", 5),
	    "a word after runs of unterminated ones decodes");
	ok(mime_ew_scanned() - before <= 2 * v.len, "runs ended by spaces: linear work");
	/* one terminated word too long to decode, holding many word starts:
	 * the later starts end at the same "?=", found once */
	v.len = 0;
	str_cats(&v, "=?a?q?");
	for (i = 0; i < 2000; i++)
		str_cats(&v, "x=?a?q?");
	str_cats(&v, "?=");
	s.len = 0;
	before = mime_ew_scanned();
	ok(mime_decode_header(&s, v.s, v.len) == 0, "an over-long word full of word starts decodes");
	ok(mime_ew_scanned() - before <= 2 * v.len, "and costs linear work");
	str_free(&v);
	str_free(&s);
}

static void
test_params(void)
{
	char t[MIME_TYPE_MAX], st[MIME_TYPE_MAX];
	struct str s = STR_INIT;
	const char *v = " Multipart/Mixed (c) ; charset=\"utf\\\"8\"; boundary=\"=_a b\"; name*0*=utf-8''x%41; name*1=y";
	ok(mime_ctype(v, strlen(v), t, st) == 0, "ctype parses");
	is_str(t, "multipart", "type lowercased");
	is_str(st, "mixed", "subtype lowercased");
	is_int(mime_param(v, strlen(v), "BOUNDARY", &s), 1, "boundary found");
	is_str(s.s, "=_a b", "quoted boundary");
	mime_param(v, strlen(v), "charset", &s);
	is_str(s.s, "utf\"8", "quoted-pair");
	is_int(mime_param(v, strlen(v), "name", &s), 1, "RFC 2231 continuation found");
	is_str(s.s, "xAy", "RFC 2231 joined and decoded");
	is_int(mime_param(v, strlen(v), "nope", &s), 0, "absent parameter");
	{
		struct str n = STR_INIT, val = STR_INIT, all = STR_INIT;
		size_t pos = 0;
		while (mime_param_next(v, strlen(v), &pos, &n, &val) == 1) {
			str_catb(&all, n.s, n.len);
			str_catc(&all, '=');
			str_catb(&all, val.s, val.len);
			str_catc(&all, '|');
		}
		str_0(&all);
		is_str(all.s, "charset=utf\"8|boundary==_a b|name*0*=utf-8''x%41|name*1=y|", "every parameter in order");
		str_free(&n);
		str_free(&val);
		str_free(&all);
	}
	ok(mime_ctype("text", 4, t, st) < 0, "type without subtype is malformed");
	is_int(mime_cte(" Base64 ", 8), MIME_CTE_BASE64, "cte base64");
	is_int(mime_cte("x-uue", 5), MIME_CTE_OTHER, "cte other");
	str_free(&s);
}

/* Each row: a field value, a parameter, the value it must give. */
static void
param_table(const char *const (*v)[3], size_t n, const char *what)
{
	struct str s = STR_INIT;
	char name[160];
	size_t i;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s: %s -> %s=%s", what, v[i][0], v[i][1], v[i][2]);
		ok(mime_param(v[i][0], strlen(v[i][0]), v[i][1], &s) == 1 && !strcmp(s.s, v[i][2]), name);
		if (strcmp(s.s ? s.s : "", v[i][2]))
			printf("#   got \"%s\"\n", s.s ? s.s : "");
	}
	str_free(&s);
}

/* A ';' inside a comment was read as a parameter separator: the
 * comment's tail became a parameter, and a "charset=" or "boundary="
 * in it was taken for the real one. Comments nest and hold
 * quoted-pairs; a quoted string can hold '(' and ';'. */
static void
test_params_comments(void)
{
	static const char *const v[][3] = {
		{ "text/plain (a; b) ; charset=x", "charset", "x" },
		{ "text/plain (a; charset=evil) ; charset=x", "charset", "x" },
		{ "text/plain (a (nested; charset=evil) b; c) ; charset=x", "charset", "x" },
		{ "text/plain (a \\) ; charset=evil) ; charset=x", "charset", "x" },
		{ "text/plain; junk (a; charset=evil); charset=x", "charset", "x" },
		{ "text/plain; junk(a; charset=evil); charset=x", "charset", "x" },
		{ "text/plain; name=\"(a; b\"; charset=x", "name", "(a; b" },
		{ "text/plain; name=\"(a; b\"; charset=x", "charset", "x" },
		{ "text/plain (\"a; charset=evil) ; charset=x", "charset", "x" },
		{ "multipart/mixed (x;y); boundary=b (c;d) ; charset=x", "boundary", "b" },
	};
	struct str n = STR_INIT, val = STR_INIT;
	char t[MIME_TYPE_MAX], st[MIME_TYPE_MAX];
	size_t pos = 0;
	int k = 0;
	param_table(v, sizeof v / sizeof v[0], "comment skipped");
	ok(mime_ctype(v[0][0], strlen(v[0][0]), t, st) == 0 && !strcmp(st, "plain"), "type before a comment");
	while (mime_param_next(v[2][0], strlen(v[2][0]), &pos, &n, &val) == 1)
		k++;
	ok(k == 1 && !strcmp(n.s, "charset"), "parameters: none from inside a nested comment");
	str_free(&n);
	str_free(&val);
}

/* An unquoted value ran on through a comment written against it
 * ("charset=us-ascii(Plain text)" gave "us-ascii(Plain", a boundary
 * "abc(comment)" was searched for as written): RFC 2045 ends a token
 * there. Other tspecials stay in the value, as mail readers keep them:
 * unquoted "=_NextPart..." boundaries are everywhere. */
static void
test_params_token_end(void)
{
	static const char *const v[][3] = {
		{ "text/plain; charset=us-ascii(Plain text)", "charset", "us-ascii" },
		{ "multipart/mixed; boundary=abc(comment)", "boundary", "abc" },
		{ "multipart/mixed; boundary=abc(c; charset=evil);charset=x", "charset", "x" },
		{ "multipart/mixed; boundary=abc(c)junk; charset=x", "charset", "x" },
		{ "multipart/mixed; boundary==_NextPart_000_0001", "boundary", "=_NextPart_000_0001" },
		{ "multipart/mixed; boundary=a/b?c=d", "boundary", "a/b?c=d" },
		{ "multipart/mixed; boundary=a<b>@c,d:e[f]", "boundary", "a<b>@c,d:e[f]" },
		{ "multipart/mixed; boundary=a)b", "boundary", "a)b" },
		{ "multipart/mixed; boundary=\"a(b)c\"", "boundary", "a(b)c" },
	};
	struct seen sn;
	const char *m;
	param_table(v, sizeof v / sizeof v[0], "token value");
	m = "Content-Type: multipart/mixed; boundary=abc(comment)\n\n--abc\n\nfirst\n--abc\n\nsecond\n--abc--\n";
	is_int(walk(m, strlen(m), &sn), 0, "boundary before a comment: split, no anomaly");
	str_0(&sn.text);
	ok(sn.leaves == 2 && !strcmp(sn.text.s, "first|second|"), "boundary before a comment: both parts read");
	str_free(&sn.text);
}

/* Blanks ending a quoted-printable line were kept, though RFC 2045
 * 6.7 (3) says transport added them and a decoder deletes them; blanks
 * inside a line, protected by a soft break, or encoded stay. */
static void
test_qp_trailing_blanks(void)
{
	static const char *const v[][2] = {
		{ "abc  \r\ndef\t \nghi  ", "abc\r\ndef\nghi" },
		{ "a b\t=20 \r\n", "a b\t \r\n" },
		{ "soft  =  \r\nbreak", "soft  break" },
		{ "soft=\t\nbreak \t", "softbreak" },
		{ "   \n \t\r\n", "\n\r\n" },
		{ "a  b", "a  b" },
		{ "abc  \r\r\ndef", "abc\r\r\ndef" },
		{ "abc \r \r\n", "abc\r\r\n" },
		{ "abc  \r", "abc\r" },
		{ "abc  \rdef \r x\n", "abc  \rdef \r x\n" },
		{ "a=20 \r\r\n", "a \r\r\n" },
	};
	struct str s = STR_INIT, m = STR_INIT, out = STR_INIT;
	struct mime_part p;
	char name[128];
	size_t i;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		s.len = 0;
		snprintf(name, sizeof name, "qp: trailing blanks deleted (case %zu)", i);
		ok(mime_qp_decode(&s, v[i][0], strlen(v[i][0]), 0) == 0 && str_0(&s) == 0 && !strcmp(s.s, v[i][1]), name);
		if (strcmp(s.s ? s.s : "", v[i][1]))
			printf("#   got \"%s\"\n", s.s ? s.s : "");
	}
	/* a long run of blanks inside a line still stops the output at max */
	while (m.len < 100000)
		str_catc(&m, ' ');
	str_cats(&m, "x\n");
	memset(&p, 0, sizeof p);
	strcpy(p.type, "text");
	strcpy(p.subtype, "plain");
	p.cte = MIME_CTE_QP;
	p.body = m.s;
	p.bodylen = m.len;
	ok(mime_body(&out, &p, 0, 1000) == 0 && out.len == 1000, "qp: a run of blanks is cut at max");
	str_free(&s);
	str_free(&m);
	str_free(&out);
}

static void
test_decoding(void)
{
	struct str s = STR_INIT;
	const char *q = "a=3Db=\r\nc=\nd =ZZ=4";
	mime_qp_decode(&s, q, strlen(q), 0);
	str_0(&s);
	is_str(s.s, "a=bcd =ZZ=4", "qp: escapes, soft breaks, bad escapes kept");
	s.len = 0;
	mime_utf8(&s, "utf-8", "ok\xff\xc3\xa9\xc3", 6);
	str_0(&s);
	is_str(s.s, "ok\xc3\xbf\xc3\xa9\xc3\x83", "invalid UTF-8 bytes read as 1252");
	s.len = 0;
	mime_utf8(&s, "koi8-r", "\xc1", 1);
	str_0(&s);
	is_str(s.s, "\xd0\xb0", "koi8-r via iconv");
	s.len = 0;
	mime_utf8(&s, "shift_jis", "\x82", 1);
	str_0(&s);
	is_str(s.s, "\xef\xbf\xbd", "truncated multibyte becomes U+FFFD");
	{
		/* labels read as the superset mail means by them */
		static const char *const lab[][3] = {
			{ "gb2312", "\x85\x40", "\xe5\x8c\x91" }, { "GB2312", "\xd6\xd0", "\xe4\xb8\xad" },
			{ "ks_c_5601-1987", "\xc7\xd1", "\xed\x95\x9c" }, { "euc-kr", "\x81\x41", "\xea\xb0\x82" },
			{ "shift_jis", "\x87\x40", "\xe2\x91\xa0" }, { "x-sjis", "\x82\xa0", "\xe3\x81\x82" },
			{ "iso-8859-8-i", "\xf9", "\xd7\xa9" }
		};
		size_t i;
		for (i = 0; i < sizeof lab / sizeof lab[0]; i++) {
			s.len = 0;
			mime_utf8(&s, lab[i][0], lab[i][1], strlen(lab[i][1]));
			str_0(&s);
			is_str(s.s, lab[i][2], lab[i][0]);
		}
	}
	s.len = 0;
	mime_utf8(&s, "bad charset\"", "x", 1);
	ok(s.len == 1, "hostile charset name is not passed to iconv");
	str_free(&s);
	/* nothing to convert into an empty string: no write through NULL */
	ok(mime_utf8(&s, "koi8-r", "", 0) == 0 && s.len == 0, "empty text in an iconv charset");
	str_free(&s);
	ok(mime_decode_header(&s, "=?koi8-r?Q?" "?=", 13) == 0 && s.len == 0, "empty encoded word in an iconv charset");
	str_free(&s);
}

static void
test_walk(void)
{
	struct seen s;
	int r;
	const char *m =
	    "Content-Type: multipart/mixed; boundary=\"b1\"\n\npreamble\n--b1\n"
	    "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n"
	    "--b1\nContent-Type: multipart/alternative; boundary=b1x\n\n--b1x\nContent-Type: text/html\n"
	    "Content-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--b1x--\n"
	    "--b1\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--b1--\nepilogue\n";
	r = walk(m, strlen(m), &s);
	is_int(r, 0, "clean tree, no anomalies");
	is_int(s.n, 6, "six entities");
	is_int(s.leaves, 4, "four leaves (rfc822 counted as leaf and entered)");
	str_0(&s.text);
	ok(strstr(s.text.s, "caf\xc3\xa9|") && strstr(s.text.s, "<b>hi</b>|") && strstr(s.text.s, "inner body|"),
	    "leaves decoded and converted");
	ok(!strstr(s.text.s, "preamble") && !strstr(s.text.s, "epilogue"), "preamble and epilogue skipped");
	str_free(&s.text);

	m = "Content-Type: multipart/mixed; boundary=z\n\n--z\n\nfirst\n--z\n\nsecond, never closed";
	r = walk(m, strlen(m), &s);
	ok(r & MIME_E_UNTERMINATED, "unterminated multipart reported");
	str_0(&s.text);
	ok(strstr(s.text.s, "second, never closed|") != NULL, "its last part still visited");
	str_free(&s.text);

	m = "Content-Type: multipart/mixed\n\nno boundary";
	r = walk(m, strlen(m), &s);
	ok((r & MIME_E_NOBOUNDARY) && s.leaves == 1, "multipart without boundary is a leaf");
	str_free(&s.text);

	m = "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nQUJD\n!!\nREVG====junk";
	walk(m, strlen(m), &s);
	str_0(&s.text);
	ok(strncmp(s.text.s, "ABCDEF", 6) == 0, "malformed base64 decoded leniently");
	str_free(&s.text);

	/* '=' where no padding can stand hid the text from the filter */
	m = "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n=\nY2hlYXAg\n=cGlsbHM=\n";
	walk(m, strlen(m), &s);
	str_0(&s.text);
	is_str(s.text.s, "cheap pills|", "base64: an '=' before a group is skipped, not the end");
	str_free(&s.text);

	{
		char nul[] = "Subject: a\0b\n\nbody\0with NUL";
		walk(nul, sizeof nul - 1, &s);
		ok(s.leaves == 1 && s.text.len == 14, "NUL bytes pass through");
		str_free(&s.text);
	}
}

/* Wraps the message in m as a message/rfc822 body, levels times: base64
 * encoded, or quoted-printable (the text must encode to itself). */
static void
wrap_messages(struct str *m, int base64, unsigned levels)
{
	struct str w = STR_INIT;
	while (levels--) {
		str_copys(&w, "Content-Type: message/rfc822\nContent-Transfer-Encoding: ");
		str_cats(&w, base64 ? "base64\n\n" : "quoted-printable\n\n");
		if (base64)
			base64_encode(&w, m->s, m->len);
		else
			str_catb(&w, m->s, m->len);
		str_copyb(m, w.s, w.len);
	}
	str_free(&w);
}

/* A message/rfc822 part sent base64 or quoted-printable was neither
 * decoded nor entered: the message in it, which mail readers show, was
 * never read. It is decoded and walked, bounded by depth, parts and a
 * budget of decoded bytes. */
static void
test_encoded_message(void)
{
	struct seen s;
	struct str m = STR_INIT, inner = STR_INIT;
	struct mime_limits lim = { 3, MIME_PARTS_MAX, 0 };
	unsigned levels;
	int r;
	const char *q =
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\n\nsee attached\n--o\n"
	    "Content-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "Subject: inner\nContent-Type: multipart/alternative; boundary=3D\"i\"\n\n--i\n"
	    "Content-Type: text/plain; charset=3Dutf-8\n\ncaf=C3=A9 pills=\n now\n--i--\n--o--\n";
	r = walk(q, strlen(q), &s);
	str_0(&s.text);
	ok(r == 0 && s.n == 5 && s.maxdepth == 3, "qp message/rfc822: its multipart walked");
	ok(strstr(s.text.s, "caf\xc3\xa9 pills now|") != NULL, "qp message/rfc822: inner text decoded");
	str_free(&s.text);

	/* one level, then a chain of six: they fit the budget (3/4 per level) */
	for (levels = 1; levels <= 6; levels += 5) {
		str_copys(&m, "Subject: inner\n\nbuy cheap pills\n");
		wrap_messages(&m, 1, levels);
		r = walk(m.s, m.len, &s);
		str_0(&s.text);
		ok(r == 0 && s.n == levels + 1 && s.maxdepth == levels && strstr(s.text.s, "|buy cheap pills\n|"),
		    levels == 1 ? "base64 message/rfc822: inner text decoded" : "six base64 levels: innermost text read");
		str_free(&s.text);
	}
	memset(&s, 0, sizeof s);
	r = mime_walk(m.s, m.len, &lim, collect, &s);
	ok((r & MIME_E_DEPTH) && s.maxdepth == 2, "encoded levels count against the depth limit");
	str_free(&s.text);

	/* quoted-printable that decodes to itself, 12 levels: each copy is as
	 * large as the message, so the budget (4 times it) ends the chain
	 * at the fifth or sixth, well within the depth limit; the walk says
	 * so (it said nothing: a message walked in part looked whole) */
	str_copys(&inner, "Subject: deep\n\n");
	while (inner.len < 80000)
		str_cats(&inner, "padding padding padding padding padding\n");
	wrap_messages(&inner, 0, 12);
	r = walk(inner.s, inner.len, &s);
	str_0(&s.text);
	ok(r == MIME_E_BUDGET && s.maxdepth >= 4 && s.maxdepth <= 6, "decoded copies bounded: chain cut, flagged");
	str_free(&s.text);
	str_free(&m);
	str_free(&inner);
}

static void
test_hostile(void)
{
	struct str m = STR_INIT;
	struct seen s;
	size_t i, hl, bo, pos = 0;
	struct mime_field f;
	int r, n = 0;
	/* 1,000-deep nesting */
	for (i = 0; i < 1000; i++) {
		str_cats(&m, "Content-Type: multipart/mixed; boundary=\"d");
		str_catu(&m, i);
		str_cats(&m, "\"\n\n--d");
		str_catu(&m, i);
		str_cats(&m, "\n");
	}
	str_cats(&m, "\ndeep text\n");
	r = walk(m.s, m.len, &s);
	ok(r & MIME_E_DEPTH, "1000-deep nesting stops at the depth bound");
	ok(s.maxdepth < MIME_DEPTH_MAX, "depth stayed bounded");
	str_free(&s.text);
	/* message/rfc822 nesting too */
	m.len = 0;
	for (i = 0; i < 1000; i++)
		str_cats(&m, "Content-Type: message/rfc822\n\n");
	r = walk(m.s, m.len, &s);
	ok((r & MIME_E_DEPTH) && s.maxdepth < MIME_DEPTH_MAX, "1000-deep rfc822 nesting bounded");
	str_free(&s.text);
	/* many parts */
	m.len = 0;
	str_cats(&m, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 5000; i++)
		str_cats(&m, "--p\n\nx\n");
	r = walk(m.s, m.len, &s);
	ok((r & MIME_E_PARTS) && s.n == MIME_PARTS_MAX, "entity count bounded");
	str_free(&s.text);
	/* huge header: one 4 MB folded field and 100,000 fields */
	m.len = 0;
	str_cats(&m, "Subject: ");
	for (i = 0; i < 100000; i++)
		str_cats(&m, "word word word word word word word word\n ");
	str_cats(&m, "end\n");
	for (i = 0; i < 100000; i++)
		str_cats(&m, "X-A: b\n");
	str_cats(&m, "\nbody\n");
	mime_split(m.s, m.len, &hl, &bo);
	while (mime_field_next(m.s, hl, &pos, &f))
		n++;
	is_int(n, 100001, "huge header: every field found");
	ok(mime_field_find(m.s, hl, "subject", &f) && f.valuelen > 4000000, "huge folded field whole");
	str_free(&m);
}

/* Boundaries longer than RFC 2046's 70 characters: mail readers accept
 * them, so spam used a 71-character one to keep its base64 text from the
 * tokeniser (the multipart was a leaf and its encoded parts opaque). Up
 * to what a 998-byte line holds ("--" boundary "--") is accepted. */
static void
test_long_boundary(void)
{
	struct seen s;
	struct str m = STR_INIT, b = STR_INIT;
	size_t len[] = { 71, 90, 994 }, i;
	char name[80];
	int r;
	for (i = 0; i < sizeof len / sizeof len[0]; i++) {
		b.len = 0;
		while (b.len < len[i])
			str_catc(&b, (char)('a' + b.len % 26));
		str_0(&b);
		m.len = 0;
		str_cats(&m, "Content-Type: multipart/alternative;\n boundary=\"");
		str_cats(&m, b.s);
		str_cats(&m, "\"\n\n--");
		str_cats(&m, b.s);
		str_cats(&m, "\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nY2hlYXAgcGlsbHM=\n--");
		str_cats(&m, b.s);
		str_cats(&m, "--\n");
		r = walk(m.s, m.len, &s);
		str_0(&s.text);
		snprintf(name, sizeof name, "a boundary of %zu characters splits, its part decoded", len[i]);
		ok(r == 0 && s.leaves == 1 && !strcmp(s.text.s, "cheap pills|"), name);
		str_free(&s.text);
	}
	str_catc(&b, 'x');
	str_0(&b);
	m.len = 0;
	str_cats(&m, "Content-Type: multipart/mixed; boundary=");
	str_cats(&m, b.s);
	str_cats(&m, "\n\nbody\n");
	r = walk(m.s, m.len, &s);
	ok((r & MIME_E_NOBOUNDARY) && s.leaves == 1, "995 characters: no line holds its delimiter, a leaf");
	str_free(&s.text);
	str_free(&m);
	str_free(&b);
}

/* RFC 2231 continuations in another order than their numbers: MIME
 * parameters are unordered (RFC 2231 section 3 expects reordering), and
 * mail readers join them by number; a boundary split that way made the
 * multipart a leaf, its encoded parts never decoded. */
static void
test_params_unordered(void)
{
	struct str s = STR_INIT;
	struct seen w;
	const char *v = "multipart/mixed; boundary*2=\"ef\"; boundary*0=\"ab\"; boundary*1=\"cd\"";
	const char *m = "Content-Type: multipart/mixed; boundary*1=\"-x\"; boundary*0=\"b\"\n\n--b-x\n"
	    "Content-Transfer-Encoding: base64\n\nY2hlYXAgcGlsbHM=\n--b-x--\n";
	int r;
	is_int(mime_param(v, strlen(v), "boundary", &s), 1, "continuations out of order: found");
	str_0(&s);
	is_str(s.s, "abcdef", "joined by their numbers");
	v = "text/plain; name*0*=utf-8''%41; name*2=c; name*1*=%42";
	mime_param(v, strlen(v), "name", &s);
	str_0(&s);
	is_str(s.s, "ABc", "extended segments decoded wherever they stand");
	v = "text/plain; name*0=a; name*2=c";
	mime_param(v, strlen(v), "name", &s);
	str_0(&s);
	is_str(s.s, "a", "a missing segment ends the value");
	r = walk(m, strlen(m), &w);
	str_0(&w.text);
	ok(r == 0 && w.leaves == 1 && !strcmp(w.text.s, "cheap pills|"), "a multipart with such a boundary splits, its part decoded");
	str_free(&w.text);
	str_free(&s);
}

/* Segments out of order were joined by rescanning the whole field once
 * per segment found (up to 32 passes, each copying every value): a
 * Content-Type of reversed segments and junk cost 32 times its length
 * per parameter asked for, and a value of more reversed segments than
 * that was cut. One pass finds where every segment stands. */
static void
test_params_many_segments(void)
{
	struct str v = STR_INIT, want = STR_INIT, s = STR_INIT;
	char seg[32];
	int i;
	str_cats(&v, "application/octet-stream");
	for (i = 99; i >= 0; i--) {
		snprintf(seg, sizeof seg, "; name*%d%s=%c%d", i, i % 2 ? "*" : "", 'a' + i % 26, i);
		str_cats(&v, seg);
	}
	for (i = 0; i < 100; i++) {
		snprintf(seg, sizeof seg, "%c%d", 'a' + i % 26, i);
		str_cats(&want, seg);
	}
	is_int(mime_param(v.s, v.len, "name", &s), 1, "100 segments in reverse order: found");
	is_mem(s.s, s.len, want.s, want.len, "and joined whole");
	str_cats(&v, "; name*=single; name=plain");
	mime_param(v.s, v.len, "name", &s);
	is_mem(s.s, s.len, want.s, want.len, "the first segment 0 (name*0 or name*) decides");
	str_free(&v);
	str_free(&want);
	str_free(&s);
}

/* A boundary of dashes (legal, RFC 2046 bchars) over a body of dashes:
 * the delimiter search tried every byte of such a line, each time
 * comparing up to the boundary's length (994 bytes), so a 256 KiB part
 * cost a quarter of a billion compares, minutes of spamcheck per MB.
 * Only line starts may hold a delimiter; each line is examined once. */
static void
test_delim_linear(void)
{
	static const char *const what[] = {
		"a line of dashes under a boundary of dashes is one part",
		"lines that only start like the delimiter do not split"
	};
	struct str m = STR_INIT, b = STR_INIT;
	struct seen s;
	unsigned long before;
	size_t body, k;
	int r;
	while (b.len < 994)
		str_catc(&b, '-');
	str_0(&b);
	str_cats(&m, "Content-Type: multipart/mixed; boundary=\"");
	str_cats(&m, b.s);
	str_cats(&m, "\"\n\n--");
	str_cats(&m, b.s);
	str_cats(&m, "\n\n");
	body = m.len;
	for (k = 0; k < 2; k++) {
		m.len = body;
		while (m.len < body + 262144) {
			if (k == 0) {          /* one long line of dashes */
				str_catc(&m, '-');
				continue;
			}
			str_cats(&m, "--");    /* many lines that start like the delimiter */
			str_cats(&m, b.s);
			str_cats(&m, "x\n");
		}
		str_cats(&m, k == 0 ? "\n--" : "--");
		str_cats(&m, b.s);
		str_cats(&m, "--\n");
		before = mime_delim_scanned();
		r = walk(m.s, m.len, &s);
		ok(r == 0 && s.leaves == 1 && s.text.len >= 262144, what[k]);
		ok(mime_delim_scanned() - before <= 2 * m.len, "and the delimiter search is linear (at most 2 bytes per byte)");
		if (mime_delim_scanned() - before > 2 * m.len)
			printf("#   scanned %lu bytes for %zu\n", mime_delim_scanned() - before, m.len);
		str_free(&s.text);
	}
	str_free(&m);
	str_free(&b);
}

/* A field of encoded words rotating through more charsets than the
 * converter cache holds: each word evicted a converter and opened
 * another, and glibc unloads and reloads a charset module for that
 * (about 100 us): 54 ms for one 16 KiB Subject, 20 s of spamcheck for
 * a header of such fields. A field opens a bounded number now; words in
 * charsets past that are read as UTF-8 or windows-1252. */
static void
test_words_charsets(void)
{
	static const char *const cs[] = { "koi8-r", "iso-8859-2", "iso-8859-5", "cp1251", "cp1250",
	    "iso-8859-7", "cp1253", "big5", "iso-8859-15", "cp866" };
	struct str v = STR_INIT, s = STR_INIT;
	unsigned long before;
	size_t i;
	str_cats(&v, "=?koi8-r?q?=C1?= ");
	for (i = 0; v.len < 16000; i++) {
		str_cats(&v, "=?");
		str_cats(&v, cs[i % (sizeof cs / sizeof cs[0])]);
		str_cats(&v, "?q?a?= ");
	}
	before = mime_iconv_opens();
	ok(mime_decode_header(&s, v.s, v.len) == 0 && s.len > 2 && !memcmp(s.s, "\xd0\xb0", 2),
	    "a field rotating through ten charsets decodes, its first word converted");
	ok(mime_iconv_opens() - before <= 16, "and opens a bounded number of converters");
	if (mime_iconv_opens() - before > 16)
		printf("#   opened %lu converters\n", mime_iconv_opens() - before);
	/* many short fields, each a few words, through more charsets than
	 * any cache holds: a budget per field did not bound this (10 s per
	 * MB); the rate of opens is bounded by the text read */
	{
		static const char *const more[] = { "koi8-u", "iso-8859-3", "iso-8859-4", "iso-8859-6",
		    "iso-8859-9", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-16", "cp1254",
		    "cp1255", "cp1256", "cp1257", "cp1258" };
		size_t total = 0, nc = sizeof cs / sizeof cs[0], nm = sizeof more / sizeof more[0];
		before = mime_iconv_opens();
		for (i = 0; total < 65536; i++) {
			size_t k;
			v.len = 0;
			for (k = 0; k < 8; k++) {
				size_t j = (i * 8 + k) % (nc + nm);
				str_cats(&v, "=?");
				str_cats(&v, j < nc ? cs[j] : more[j - nc]);
				str_cats(&v, "?q?a?= ");
			}
			total += v.len;
			s.len = 0;
			mime_decode_header(&s, v.s, v.len);
		}
		ok(mime_iconv_opens() - before <= 32 + total / 4096, "many short fields: opens bounded by the text read");
		if (mime_iconv_opens() - before > 32 + total / 4096)
			printf("#   opened %lu converters for %zu bytes\n", mime_iconv_opens() - before, total);
	}
	str_free(&v);
	str_free(&s);
}

/* mime_body read only a prefix of the encoded body sized for max bytes
 * of output at the usual density: 800 KB of quoted-printable soft line
 * breaks ("=\n", no output) or of junk around base64 came to nothing, so
 * spam put its text after them and spamcheck (256 KiB per part) never
 * saw it, while mail readers show it. The first max decoded bytes are
 * returned however much padding comes first, and no more. */
static void
test_body_padding(void)
{
	static const char *const pad[] = { "=\n", "=  \r\n", "!!!!\n", " \r\n" };
	static const int cte[] = { MIME_CTE_QP, MIME_CTE_QP, MIME_CTE_BASE64, MIME_CTE_BASE64 };
	static const char *const what[] = { "qp soft line breaks", "qp soft breaks with padding",
	    "junk in base64", "blank lines in base64" };
	struct str m = STR_INIT, out = STR_INIT;
	struct mime_part p;
	char name[96];
	size_t k;
	for (k = 0; k < sizeof pad / sizeof pad[0]; k++) {
		m.len = 0;
		while (m.len < 800000)
			str_cats(&m, pad[k]);
		str_cats(&m, cte[k] == MIME_CTE_QP ? "cheap pills=\n" : "Y2hlYXAgcGlsbHM=\n");
		memset(&p, 0, sizeof p);
		strcpy(p.type, "text");
		strcpy(p.subtype, "plain");
		p.cte = cte[k];
		p.body = m.s;
		p.bodylen = m.len;
		out.len = 0;
		snprintf(name, sizeof name, "text after 800 KB of %s is decoded", what[k]);
		ok(mime_body(&out, &p, 0, 262144) == 0 && out.len == 11 && !memcmp(out.s, "cheap pills", 11), name);
	}
	/* padding every group: base64 now decodes on after it, and max
	 * bytes of output still come out, not the fewer a symbol count
	 * (4 symbols for 3 bytes) reached */
	m.len = 0;
	while (m.len < 800000)
		str_cats(&m, "QQ==\n");
	memset(&p, 0, sizeof p);
	strcpy(p.type, "text");
	p.cte = MIME_CTE_BASE64;
	p.body = m.s;
	p.bodylen = m.len;
	out.len = 0;
	ok(mime_body(&out, &p, 0, 100000) == 0 && out.len == 100000 && out.s[0] == 'A' && out.s[99999] == 'A',
	    "base64 padded after every group: max bytes out");
	m.len = 0;
	str_cats(&m, "Y2hlYXAg\n=\n");
	str_cats(&m, "cGlsbHM=\nIG5vdw==\n");
	p.body = m.s;
	p.bodylen = m.len;
	out.len = 0;
	ok(mime_body(&out, &p, 0, 262144) == 0 && out.len == 15 && !memcmp(out.s, "cheap pills now", 15),
	    "base64 lines after a padded line are decoded");
	/* and the output stays within max when the text is dense */
	for (k = 0; k < 2; k++) {
		m.len = 0;
		while (m.len < 800000)
			str_cats(&m, k == 0 ? "=41=42=43 x\n" : "QUJDQUJDQUJD\n");
		p.cte = k == 0 ? MIME_CTE_QP : MIME_CTE_BASE64;
		p.body = m.s;
		p.bodylen = m.len;
		out.len = 0;
		ok(mime_body(&out, &p, 0, 1000) == 0 && out.len == 1000 && !memcmp(out.s, k == 0 ? "ABC x\nABC" : "ABCABC", 6),
		    k == 0 ? "qp output stops at max" : "base64 output stops at max, however short its lines");
	}
	str_free(&m);
	str_free(&out);
}

/* A line that is neither a field nor a continuation ends the header:
 * mail readers (Python's email, for one) show it and what follows as
 * the body. It was skipped as junk, so a part without the empty line
 * ("--b", then the text) or a top-level header with text after it hid
 * that text from spamcheck while readers showed it. */
static void
test_split_junk_line(void)
{
	struct seen s;
	size_t hl, bo;
	const char *m = "Subject: hi\nBuy cheap pills\nX-A: b\n\nbody\n";
	int r;
	mime_split(m, strlen(m), &hl, &bo);
	ok(hl == 12 && bo == 12, "a header ends before a line that is not a field");
	m = "Subject: hi\n\t(folded)\nSubject : obsolete\n\nbody";
	mime_split(m, strlen(m), &hl, &bo);
	ok(hl == 41 && bo == 42, "continuations and obsolete \"Name :\" fields stay in the header");
	m = "From a@b Mon Dec  1 10:00:00 2026\nSubject: x\n\nbody";
	mime_split(m, strlen(m), &hl, &bo);
	is_str(m + bo, "body", "an mbox \"From \" line first stays in the header, as readers take it");
	m = "Content-Type: multipart/mixed; boundary=b\n\n--b\nBuy cheap pills now\n--b\n"
	    "Content-Type: text/html\n<b>cheap</b>\n--b--\n";
	r = walk(m, strlen(m), &s);
	str_0(&s.text);
	ok(r == 0 && s.leaves == 2 && !strcmp(s.text.s, "Buy cheap pills now|<b>cheap</b>|"),
	    "parts without the empty line: their text is body");
	str_free(&s.text);
}

int
main(void)
{
	test_fields();
	test_words();
	test_words_linear();
	test_params();
	test_params_comments();
	test_params_token_end();
	test_decoding();
	test_qp_trailing_blanks();
	test_walk();
	test_encoded_message();
	test_hostile();
	test_long_boundary();
	test_params_unordered();
	test_delim_linear();
	test_words_charsets();
	test_body_padding();
	test_params_many_segments();
	test_split_junk_line();
	return done();
}
