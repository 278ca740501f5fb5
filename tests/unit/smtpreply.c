/* Unit tests for the SMTP reply parser, EHLO keywords and the
 * dot-stuffing encoder. */
#include <string.h>
#include "dotstuff.h"
#include "smtpreply.h"
#include "tap.h"

static int
feed(struct smtpreply *r, const char *lines)
{
	int p = 0;
	smtpreply_reset(r);
	while (*lines) {
		const char *nl = strchr(lines, '\n');
		size_t n = nl ? (size_t)(nl - lines) : strlen(lines);
		p = smtpreply_line(r, lines, n);
		if (p != 0)
			return p;
		lines += n + (nl != NULL);
	}
	return p;
}

static const char *
printed(const struct smtpreply *r)
{
	static struct str s;
	s.len = 0;
	smtpreply_print(r, &s);
	str_0(&s);
	return s.s;
}

static const char *
wire(const char *in, size_t len)
{
	static struct str s;
	struct dotstuff d;
	s.len = 0;
	dotstuff_init(&d);
	dotstuff_put(&d, in, len, &s);
	dotstuff_end(&d, &s);
	str_0(&s);
	return s.s;
}

int
main(void)
{
	struct smtpreply r;
	struct smtpext e;
	char enh[SMTPREPLY_ENH_MAX];
	smtpreply_init(&r);

	is_int(feed(&r, "250 ok"), 1, "single line reply");
	is_int(r.code, 250, "code");
	is_str(printed(&r), "250 ok", "printed");
	is_int(feed(&r, "550-5.1.1 no\n550 5.1.1 such user"), 1, "multi-line reply");
	is_str(r.enh, "5.1.1", "enhanced code from the first line");
	is_str(printed(&r), "550 no such user", "continuation joined, codes stripped");
	is_int(feed(&r, "250-a\n251 b"), -1, "code change between lines: malformed");
	is_int(feed(&r, "25 x"), -1, "two digits: malformed");
	is_int(feed(&r, "199 x"), -1, "1xx: malformed");
	is_int(feed(&r, "260 x"), -1, "second digit above 5: malformed");
	is_int(feed(&r, "2500 x"), -1, "no separator after the code: malformed");
	is_int(feed(&r, "250"), 1, "bare code");
	is_int(feed(&r, "421 4.3.2 bye\x01\r"), 1, "control bytes");
	is_str(printed(&r), "421 bye  ", "control bytes printed as spaces");
	feed(&r, "450 busy");
	smtpreply_enhanced(&r, 1, enh);
	is_str(enh, "4.2.0", "derived enhanced code for RCPT 450");
	feed(&r, "550 5.7.1 x");
	smtpreply_enhanced(&r, 1, enh);
	is_str(enh, "5.7.1", "given enhanced code wins");
	feed(&r, "550 4.7.1 wrong class");
	is_str(r.enh, "", "enhanced code of another class ignored");
	/* found by the fuzz target: a 3xx reply with a "3.x.y" prefix */
	is_int(feed(&r, "323 3.441 go ahead"), 1, "3xx reply with something like an enhanced code");
	smtpreply_enhanced(&r, 0, enh);
	ok(strcmp(r.enh, "") == 0 && strcmp(enh, "2.0.0") == 0, "no class-3 enhanced code: there is none (RFC 3463)");
	is_str(printed(&r), "323 3.441 go ahead", "the text kept whole");
	ok(smtpreply_isenh("2.1.5", 5, '2') && !smtpreply_isenh("2.1.5", 5, '4') &&
	    !smtpreply_isenh("2.1234.5", 8, '2') && !smtpreply_isenh("2..5", 4, '2'), "isenh");
	{
		/* a flood of continuation lines is bounded */
		int i, p = 0;
		smtpreply_reset(&r);
		for (i = 0; i < SMTPREPLY_LINES_MAX + 5 && p == 0; i++)
			p = smtpreply_line(&r, "250-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 44);
		is_int(p, -1, "too many lines: malformed");
		ok(r.text.len <= SMTPREPLY_TEXT_MAX, "text bounded");
	}
	feed(&r, "250-mx.example Hello\n250-PIPELINING\n250-SIZE 1000\n250-8BITMIME\n250-AUTH=LOGIN\n"
	    "250-AUTH PLAIN CRAM-MD5\n250-STARTTLS\n250-dsn\n250 SMTPUTF8");
	smtpreply_ehlo(&r, &e);
	is_int(e.flags, EXT_PIPELINING | EXT_SIZE | EXT_8BITMIME | EXT_AUTH_LOGIN | EXT_AUTH_PLAIN |
	    EXT_STARTTLS | EXT_DSN | EXT_SMTPUTF8, "EHLO keywords (case-insensitive, AUTH= form)");
	is_int(e.size, 1000, "SIZE value");
	feed(&r, "250-mx PIPELINING\n250 SIZE");
	smtpreply_ehlo(&r, &e);
	is_int(e.flags, EXT_SIZE, "greeting line is not a keyword; SIZE without a value");
	is_int(e.size, 0, "no SIZE value: 0");
	smtpreply_free(&r);

	is_str(wire("a\nb\n", 4), "a\r\nb\r\n.\r\n", "LF becomes CRLF");
	is_str(wire("a\r\nb", 4), "a\r\nb\r\n.\r\n", "CRLF kept, last line closed");
	is_str(wire(".\n..x\n", 6), "..\r\n...x\r\n.\r\n", "leading dots doubled");
	is_str(wire("a\rb\r", 4), "a\r\nb\r\n.\r\n", "lone CR becomes a line end");
	is_str(wire("a\r\r\nb", 5), "a\r\n\r\nb\r\n.\r\n", "CR CR LF: two line ends, none bare");
	is_str(wire("\n.\r.\n", 5), "\r\n..\r\n..\r\n.\r\n", "smuggling shapes stuffed");
	is_str(wire("", 0), ".\r\n", "empty message");
	{
		char longl[2100];
		const char *w;
		memset(longl, 'x', sizeof longl);
		w = wire(longl, sizeof longl);
		ok(strstr(w, "\r\n ") && strlen(w) == 2100 + 2 * 3 + 2 + 3, "long line folded at 998");
	}
	{
		/* split input: state carries across calls */
		struct dotstuff d;
		struct str s = STR_INIT;
		dotstuff_init(&d);
		dotstuff_put(&d, "a\r", 2, &s);
		dotstuff_put(&d, "\n.b", 3, &s);
		dotstuff_end(&d, &s);
		is_mem(s.s, s.len, "a\r\n..b\r\n.\r\n", 11, "CR and dot state across chunks");
		str_free(&s);
	}
	return done();
}
