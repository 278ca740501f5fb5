/* Unit tests for lib/smtpaddr: paths, SMTPUTF8, parameters, xtext, line fields. */
#include <string.h>
#include "smtpaddr.h"
#include "tap.h"

static int
path(const char *in, int flags, const char *want, int wantr)
{
	struct smtpaddr a = { STR_INIT, 0, 0, 0 };
	size_t used = 0;
	int r = smtpaddr_path(in, strlen(in), flags, &a, &used);
	int good = r == wantr;
	if (good && r == SMTPADDR_OK)
		good = a.addr.s && strcmp(a.addr.s, want) == 0 && used == strlen(in);
	if (!good)
		printf("#   %s: r=%d addr=%s used=%zu\n", in, r, a.addr.s ? a.addr.s : "(null)", used);
	smtpaddr_free(&a);
	return good;
}

static void
test_paths(void)
{
	char big[600];
	ok(path("<u@example.test>", 0, "u@example.test", 0), "plain path");
	ok(path("<>", SMTPADDR_NULLOK, "", 0), "null path with NULLOK");
	ok(path("<>", 0, "", SMTPADDR_SYNTAX), "null path refused for RCPT");
	ok(path("<first.last+tag@sub.example.test>", 0, "first.last+tag@sub.example.test", 0), "dots and plus");
	ok(path("<@a.test,@b.test:u@c.test>", 0, "u@c.test", 0), "source route dropped");
	ok(path("<@local.test:u@other.test>", 0, "u@other.test", 0), "relay route leaves the foreign mailbox");
	ok(path("<\"u@other\"@local.test>", 0, "\"u@other\"@local.test", 0), "quoted local part kept quoted");
	ok(path("<\"plain\"@local.test>", 0, "plain@local.test", 0), "needless quotes dropped");
	ok(path("<\"a\\\"b\"@x.test>", 0, "\"a\\\"b\"@x.test", 0), "quoted-pair re-escaped");
	ok(path("<u@[127.0.0.1]>", 0, "u@[127.0.0.1]", 0), "IPv4 literal");
	ok(path("<u@[IPv6:::1]>", 0, "u@[IPv6:::1]", 0), "IPv6 literal");
	ok(path("<u@[300.0.0.1]>", 0, "", SMTPADDR_SYNTAX), "bad IPv4 literal");
	ok(path("<u@other@local.test>", 0, "", SMTPADDR_SYNTAX), "two @ refused");
	ok(path("<u@>", 0, "", SMTPADDR_SYNTAX), "empty domain");
	ok(path("<@x.test>", 0, "", SMTPADDR_SYNTAX), "route without mailbox");
	ok(path("<u>", 0, "", SMTPADDR_SYNTAX), "no domain");
	ok(path("<Postmaster>", SMTPADDR_NODOMAIN, "Postmaster", 0), "<Postmaster> for RCPT");
	ok(path("<u@x..test>", 0, "", SMTPADDR_SYNTAX), "empty label");
	ok(path("<u@-x.test>", 0, "", SMTPADDR_SYNTAX), "leading hyphen");
	ok(path("<u@x-.test>", 0, "", SMTPADDR_SYNTAX), "trailing hyphen");
	ok(path("<.u@x.test>", 0, "", SMTPADDR_SYNTAX), "leading dot in local part");
	ok(path("<u.@x.test>", 0, "", SMTPADDR_SYNTAX), "trailing dot in local part");
	ok(path("<u@x.test", 0, "", SMTPADDR_SYNTAX), "no closing bracket");
	ok(path("u@x.test", 0, "", SMTPADDR_SYNTAX), "no brackets");
	ok(path("<u\r@x.test>", 0, "", SMTPADDR_SYNTAX), "CR in local part");
	ok(path("<u@x.test\n>", 0, "", SMTPADDR_SYNTAX), "LF in domain");
	ok(path("<\"a\rb\"@x.test>", 0, "", SMTPADDR_SYNTAX), "CR in quoted string");
	ok(path("<\"a\\\nb\"@x.test>", 0, "", SMTPADDR_SYNTAX), "escaped LF in quoted string");
	ok(path("<u\0@x.test>", 0, "", SMTPADDR_SYNTAX), "NUL (stops the string)");
	ok(path("<j\xc3\xb6rg@b\xc3\xbc""cher.test>", SMTPADDR_UTF8, "j\xc3\xb6rg@b\xc3\xbc""cher.test", 0), "UTF-8 with SMTPUTF8");
	ok(path("<j\xc3\xb6rg@x.test>", 0, "", SMTPADDR_8BIT), "UTF-8 without SMTPUTF8");
	ok(path("<u@b\xc3\xbc""cher.test>", 0, "", SMTPADDR_8BIT), "UTF-8 domain without SMTPUTF8");
	ok(path("<j\xc3@x.test>", SMTPADDR_UTF8, "", SMTPADDR_SYNTAX), "truncated UTF-8");
	ok(path("<\xc0\xaf@x.test>", SMTPADDR_UTF8, "", SMTPADDR_SYNTAX), "overlong UTF-8");
	ok(path("<\xed\xa0\x80@x.test>", SMTPADDR_UTF8, "", SMTPADDR_SYNTAX), "surrogate UTF-8");
	memset(big, 'a', sizeof big);
	memcpy(big, "<", 1);
	memcpy(big + 200, "@x.test>", 9);
	ok(path(big, 0, "", SMTPADDR_TOOLONG), "local part too long");
	{
		struct smtpaddr a = { STR_INIT, 0, 0, 0 };
		size_t used;
		ok(smtpaddr_path("<u%o@x.test> SIZE=1", 19, 0, &a, &used) == 0 && used == 12, "used stops at >");
		ok(smtpaddr_local_routing(&a), "% is a routing character");
		ok(smtpaddr_path("<o!u@x.test>", 12, 0, &a, &used) == 0 && smtpaddr_local_routing(&a), "! too");
		ok(smtpaddr_path("<u@x.test>", 10, 0, &a, &used) == 0 && !smtpaddr_local_routing(&a), "plain is not");
		ok(a.at == 1, "at index");
		smtpaddr_free(&a);
	}
}

static void
test_params(void)
{
	struct smtp_mailparams mp = { 0, 0, 0, 0, 0, STR_INIT, 0 };
	struct smtp_rcptparams rp = { 0, STR_INIT };
	const char *s;
	s = " SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bd AUTH=<>";
	ok(smtpaddr_mail_params(s, strlen(s), &mp) == 0, "all MAIL params");
	ok(mp.has_size && mp.size == 1000 && mp.body == SMTP_BODY_8BITMIME && mp.smtputf8 && mp.ret == SMTP_RET_HDRS,
	    "values parsed");
	ok(mp.envid.len == 7 && memcmp(mp.envid.s, "abc+2Bd", 7) == 0, "ENVID kept as xtext");
	ok(smtpaddr_mail_params("", 0, &mp) == 0 && !mp.has_size && !mp.envid.len, "no params resets");
	s = " size=5 body=7bit";
	ok(smtpaddr_mail_params(s, strlen(s), &mp) == 0 && mp.body == SMTP_BODY_7BIT, "case-insensitive");
	s = " SIZE=99999999999999999999999";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "SIZE overflow");
	s = " SIZE=-1";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "SIZE negative");
	s = " SIZE=1 SIZE=2";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_DUP, "SIZE twice");
	s = " BODY=BINARYMIME";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_UNKNOWN, "BINARYMIME not offered");
	s = " FOO=bar";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_UNKNOWN, "unknown param");
	s = " RET=ALL";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "bad RET");
	s = " ENVID=a+zz";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "bad xtext");
	s = " SMTPUTF8=yes";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "SMTPUTF8 takes no value");
	s = "SIZE=1";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "no space before param");
	s = " SIZE=1\r";
	is_int(smtpaddr_mail_params(s, strlen(s), &mp), SMTPADDR_PARAM_SYNTAX, "CR in value");
	s = " NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40x.test";
	ok(smtpaddr_rcpt_params(s, strlen(s), 0, &rp) == 0 && rp.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE),
	    "NOTIFY list");
	ok(rp.orcpt.len == 17, "ORCPT kept");
	s = " NOTIFY=NEVER,DELAY";
	is_int(smtpaddr_rcpt_params(s, strlen(s), 0, &rp), SMTPADDR_PARAM_SYNTAX, "NEVER is exclusive");
	s = " NOTIFY=FAILURE,";
	is_int(smtpaddr_rcpt_params(s, strlen(s), 0, &rp), SMTPADDR_PARAM_SYNTAX, "trailing comma");
	s = " ORCPT=rfc822";
	is_int(smtpaddr_rcpt_params(s, strlen(s), 0, &rp), SMTPADDR_PARAM_SYNTAX, "ORCPT without ;");
	s = " ORCPT=utf-8;j\xc3\xb6rg@x.test";
	is_int(smtpaddr_rcpt_params(s, strlen(s), 1, &rp), 0, "utf-8 ORCPT under SMTPUTF8");
	is_int(smtpaddr_rcpt_params(s, strlen(s), 0, &rp), SMTPADDR_PARAM_SYNTAX, "utf-8 ORCPT without SMTPUTF8");
	s = " SIZE=1";
	is_int(smtpaddr_rcpt_params(s, strlen(s), 0, &rp), SMTPADDR_PARAM_UNKNOWN, "MAIL param on RCPT");
	smtpaddr_mail_params_free(&mp);
	smtpaddr_rcpt_params_free(&rp);
}

static void
test_xtext_utf8(void)
{
	ok(smtpaddr_xtext_ok("a+2B", 4), "xtext escape");
	ok(!smtpaddr_xtext_ok("a+2b", 4), "xtext lower-case hex");
	ok(!smtpaddr_xtext_ok("a+2", 3), "xtext short escape");
	ok(!smtpaddr_xtext_ok("a=b", 3), "xtext =");
	ok(smtpaddr_utf8_ok("\xf0\x9f\x98\x80", 4), "4-byte UTF-8");
	ok(!smtpaddr_utf8_ok("\xf4\x90\x80\x80", 4), "past U+10FFFF");
	ok(!smtpaddr_utf8_ok("\x80", 1), "lone continuation");
}

static void
test_cmp(void)
{
	ok(smtpaddr_cmp("u@x.test", "u@X.TEST") == 0, "cmp: domain in any case");
	ok(smtpaddr_cmp("U@x.test", "u@x.test") != 0, "cmp: local part exact");
	ok(smtpaddr_cmp("u@x.test", "u@y.test") != 0, "cmp: other domain");
	ok(smtpaddr_cmp("u", "u") == 0 && smtpaddr_cmp("u", "u@x") != 0, "cmp: without a domain");
	ok((smtpaddr_cmp("a@x", "b@x") < 0) == (smtpaddr_cmp("b@x", "a@x") > 0), "cmp: an order");
	ok(smtpaddr_cmp("\"a@b\"@x", "\"a@b\"@X") == 0, "cmp: the last @ ends the local part");
}

/* the length of the first field of s */
static size_t
field(const char *s)
{
	return smtpaddr_field(s, strlen(s));
}

static int
field_ok(const char *a)
{
	return smtpaddr_field_ok(a, strlen(a));
}

/* a as smtpaddr_field_put prints it */
static const char *
put(const char *a, size_t len)
{
	static struct str o;
	o.len = 0;
	if (smtpaddr_field_put(&o, a, len) < 0 || str_0(&o) < 0)
		return "ENOMEM";
	return o.s ? o.s : "";
}

static void
test_fields(void)
{
	static const char *const bad[] = {
		"", "a b@x", "a\tb@x", "\"a\tb\"@x", "\"a\rb\"@x", "\"a\nb\"@x", "\"a\x7f\"@x", "a\x7f@x",
		"\"a b@x", "\"a b\\\"@x", "\"ab\\", "\"a b\"c@x", "\"a b\" @x", "\"a\"\"b\"@x", "a\"b@x",
		"a\\b@x", "x@\"y\"", "\"a\\\tb\"@x", "<a@x>", "\"a b\"@<x>", "a@x ", " a@x", NULL,
	};
	size_t i;
	is_int(field("a@x b@y"), 3, "field: to the blank");
	is_int(field("a@x"), 3, "field: to the end");
	is_int(field("\"a b\"@x c@y"), 7, "field: a quoted local part holds its blank");
	is_int(field("\"a \\\" b\"@x c@y"), 10, "field: an escaped quote does not close it");
	is_int(field("\"a\\\\\" b\"@x"), 5, "field: an escaped backslash does not escape the quote");
	is_int(field("\"a b c@y"), 2, "field: no closing quote: to the blank");
	is_int(field("\"a\tb\" c@y"), 5, "field: a tab inside: not quoted, to the blank");
	is_int(field("\"ab\\"), 4, "field: a backslash at the end: to the end");
	is_int(field("a\"b c\"@x"), 3, "field: a quote after the start does not count");
	is_int(smtpaddr_field("\"a b\"@x", 3), 2, "field: never past len (the quote unclosed there)");
	is_int(smtpaddr_field("\"a\0b\"@x q", 9), 7, "field: a NUL inside: not quoted, to the blank");
	ok(field_ok("u@x.test"), "ok: plain");
	ok(field_ok("\"a b\"@remote.test"), "ok: a blank inside quotes");
	ok(field_ok("\"a\\\"b\\\\\"@x"), "ok: escaped quote and backslash");
	ok(field_ok("\"a<b>\"@x"), "ok: angle brackets inside quotes");
	ok(field_ok("\"\xc3\xa4 b\"@x") && field_ok("\xc3\xa4@x"), "ok: UTF-8");
	ok(field_ok("\"a b\"") && field_ok("postmaster"), "ok: no domain");
	for (i = 0; bad[i]; i++)
		if (!ok(!field_ok(bad[i]), "refused"))
			printf("#   %s\n", bad[i]);
	ok(!smtpaddr_field_ok("a\0b@x", 5), "refused: a NUL");
	is_str(put("\"a b\"@x", 7), "\"a b\"@x", "put: a good address as it is");
	is_str(put("a b@x", 5), "a?b@x", "put: a blank outside quotes as ?");
	is_str(put("\"a b@x", 6), "?a?b@x", "put: an unclosed quote as ?, and its blank");
	is_str(put("\"a\tb\"@x", 7), "?a?b?@x", "put: a tab inside quotes");
	is_str(put("a\r\n\x7f@x", 6), "a???@x", "put: CR, LF, DEL");
	is_mem(put("a\0b", 3), 3, "a?b", 3, "put: a NUL");
	is_str(put("a\\b<@x", 6), "a\\b<@x", "put: no blank, no quote: as it is");
	is_str(put("", 0), "", "put: empty");
	for (i = 0; bad[i]; i++) {
		const char *p = put(bad[i], strlen(bad[i]));
		if (!ok(field(p) == strlen(p), "put: one field"))
			printf("#   %s\n", bad[i]);
	}
}

static void
test_literal(void)
{
	ok(smtpaddr_literal_ok("[192.0.2.7]", 11), "IPv4 literal");
	ok(smtpaddr_literal_ok("[IPv6:2001:db8::1]", 18), "IPv6 literal");
	ok(!smtpaddr_literal_ok("[192.0.2.7]x", 12), "literal then more");
	ok(!smtpaddr_literal_ok("[1.2.3.4]x]", 11), "two closing brackets");
	ok(!smtpaddr_literal_ok("[300.0.0.1]", 11), "bad IPv4");
	ok(!smtpaddr_literal_ok("[192.0.2.7", 10), "no closing bracket");
	ok(!smtpaddr_literal_ok("host.test", 9), "a domain");
	ok(!smtpaddr_literal_ok("", 0), "empty");
}

static void
test_mailbox(void)
{
	static const char *const good[] = {
		"a@x", "a.b@x.test", "\"a b\"@x", "\"a\\\"b\"@x", "\"a..b\"@x", "a@[192.0.2.7]",
		"a@[IPv6:2001:db8::1]", "\xc3\xa4@\xc3\xa4.test", "!#$%&'*+-/=?^_`{|}~@x-y.test", NULL,
	};
	static const char *const bad[] = {
		"", "a", "a@@x", "@x", "a@", "a@x..y", "a@.x", "a@x.", "a@-x", "a@x-", ".a@x", "a.@x", "a..b@x",
		"a b@x", "\"a b@x", "\"a\"b@x", "a@x y", "a@x>", "<a@x>", "a@[300.0.0.1]", "a@[1.2.3.4]x",
		"a@x_y", "a,b@x", "\xc3@x", "a@\xff.test", "\"a\tb\"@x", "a@b@x", NULL,
	};
	char big[400];
	size_t i;
	for (i = 0; good[i]; i++)
		if (!ok(smtpaddr_mailbox_ok(good[i], strlen(good[i])), "mailbox: taken"))
			printf("#   %s\n", good[i]);
	for (i = 0; bad[i]; i++)
		if (!ok(!smtpaddr_mailbox_ok(bad[i], strlen(bad[i])), "mailbox: refused"))
			printf("#   %s\n", bad[i]);
	ok(!smtpaddr_mailbox_ok("a@x\0y", 5), "mailbox: a NUL");
	ok(smtpaddr_mailbox_ok("a@xy", 3), "mailbox: never past len");
	memset(big, 'a', sizeof big);
	big[SMTPADDR_LOCAL_MAX] = '@';
	big[SMTPADDR_LOCAL_MAX + 1] = 'x';
	ok(smtpaddr_mailbox_ok(big, SMTPADDR_LOCAL_MAX + 2), "mailbox: the longest local part");
	big[SMTPADDR_LOCAL_MAX] = 'a';
	big[SMTPADDR_LOCAL_MAX + 1] = '@';
	big[SMTPADDR_LOCAL_MAX + 2] = 'x';
	ok(!smtpaddr_mailbox_ok(big, SMTPADDR_LOCAL_MAX + 3), "mailbox: a local part too long");
}

int
main(void)
{
	test_paths();
	test_literal();
	test_params();
	test_xtext_utf8();
	test_cmp();
	test_fields();
	test_mailbox();
	return done();
}
