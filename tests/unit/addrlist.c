/* Unit tests for the RFC 5322 address-list parser. */
#include <string.h>
#include "addrlist.h"
#include "tap.h"

/* the addresses joined by '|' */
static const char *
parse(const char *s, size_t *n)
{
	static struct str out, joined;
	size_t i;
	out.len = joined.len = 0;
	*n = 0;
	if (addrlist_parse(s, strlen(s), &out, n) < 0)
		return "ERROR";
	for (i = 0; i < out.len; i += strlen(out.s + i) + 1) {
		if (joined.len)
			str_catc(&joined, '|');
		str_cats(&joined, out.s + i);
	}
	str_0(&joined);
	return joined.s ? joined.s : "";
}

int
main(void)
{
	size_t n;
	is_str(parse("a@b.c", &n), "a@b.c", "bare address");
	is_str(parse("A B <a@b.c>, c@d.e", &n), "a@b.c|c@d.e", "display name and list");
	is_int(n, 2, "count");
	is_str(parse("\"Smith, J\" <j@x>", &n), "j@x", "comma inside a quoted display name");
	is_str(parse("j@x (Smith, J (nested))", &n), "j@x", "nested comment with a comma");
	is_str(parse("\"a b\"@x", &n), "\"a b\"@x", "quoted local part kept");
	is_str(parse("\"john.smith\"@x, <\"bob\"@y>", &n), "john.smith@x|bob@y", "needless quotes dropped");
	is_str(parse("\"bob\"", &n), "bob", "needless quotes dropped without a domain");
	is_str(parse("\"a..b\"@x, \".a\"@x, \"a.\"@x, \"\"@x", &n), "\"a..b\"@x|\".a\"@x|\"a.\"@x|\"\"@x",
	    "quotes a dot-atom needs are kept");
	is_str(parse("\"a\\\"b\"@x, \"m@x\", \"jo\"hn@x", &n), "\"a\\\"b\"@x|\"m@x\"|\"jo\"hn@x",
	    "escapes, an '@', a mixed local part: kept as written");
	is_str(parse("=?utf-8?q?Doe,_John?= <j@x>", &n), "j@x", "a comma inside an encoded word splits nothing");
	is_int(n, 1, "count: one");
	is_str(parse("=?UTF-8?B?RG9lLCBK?= =?utf-8?Q?x;y:z<w@evil>?= <j@x>, k@y", &n), "j@x|k@y",
	    "specials inside encoded words are display text");
	is_str(parse("=?utf-8?q?a@b?=", &n), "=?utf-8?q?a@b?=", "an encoded word alone: kept as it is");
	is_str(parse("=?utf-8?q?a, b@c", &n), "=?utf-8?q?a|b@c", "a word with a blank is none");
	is_str(parse("=?utf-8?x?a,b?= <j@x>", &n), "=?utf-8?x?a|j@x", "an unknown encoding is no word");
	is_str(parse("=??q?a,b?= <j@x>", &n), "=??q?a|j@x", "no charset: no word");
	is_str(parse("=?utf-8?q?a,b? <j@x>", &n), "=?utf-8?q?a|j@x", "unterminated: no word");
	is_str(parse("<=?utf-8?q?a?=@x>", &n), "=?utf-8?q?a?=@x", "inside angle brackets: an address");
	/* an encoded word in a comment is one piece, raw parentheses and all */
	is_str(parse("j@x (=?utf-8?q?a(b?=), k@y", &n), "j@x|k@y", "a '(' in a word in a comment opens nothing");
	is_str(parse("(=?utf-8?q?a(b?=) j@x, k@y", &n), "j@x|k@y", "a '(' in a word in a leading comment");
	is_str(parse("j@x (=?utf-8?q?x)y?=), k@y", &n), "j@x|k@y", "a ')' in a word in a comment closes nothing");
	is_str(parse("j@x (c =?utf-8?q?a)b?= (d)), k@y", &n), "j@x|k@y", "a word among nested comments");
	is_str(parse("j@x (=?utf-8?q?a=29b?=), k@y", &n), "j@x|k@y", "an encoded ')' in a comment");
	is_str(parse("j@x (a)b?=), k@y", &n), "j@xb?=)|k@y", "no word: the first ')' closes");
	is_str(parse("j@x (=?utf-8?q?a b)c?=), k@y", &n), "j@xc?=)|k@y", "a word with a blank is none, in a comment too");
	is_str(parse("a@[IPv6:2001:db8::1], b@[192.0.2.1]", &n), "a@[IPv6:2001:db8::1]|b@[192.0.2.1]",
	    "a domain literal's ':' starts no group");
	is_str(parse("[Team, Ops] <a@x>", &n), "a@x", "brackets in a display name: one entry");
	is_str(parse("a[b, c@x", &n), "a[b|c@x", "an unclosed bracket is a plain byte");
	is_str(parse("a[b[c]@x", &n), "a[b[c]@x", "a bracket inside brackets: from the last");
	is_str(parse("team: a@x, b@y;, c@z", &n), "a@x|b@y|c@z", "group");
	is_str(parse("undisclosed-recipients:;", &n), "", "empty group");
	is_str(parse("<@r1,@r2:u@h>", &n), "u@h", "obsolete route stripped");
	is_str(parse("a@x,\r\n\tb@y", &n), "a@x|b@y", "folded");
	is_str(parse(",,a@x,,", &n), "a@x", "empty entries skipped");
	is_str(parse("<>", &n), "", "empty angle address skipped");
	is_str(parse("x@", &n), "", "address ending in @ skipped");
	is_str(parse("a @ b . c", &n), "a@b.c", "spaces around atoms dropped");
	is_str(parse("x <a@b", &n), "a@b", "unclosed angle: what is there");
	is_str(parse("(unclosed comment a@b", &n), "", "unclosed comment swallows the rest");
	is_str(parse("\"unclosed quote, a@b", &n), "\"unclosed quote, a@b", "unclosed quote");
	{
		char deep[200];
		memset(deep, '(', 100);
		memcpy(deep + 100, "a@b", 4);
		is_str(parse(deep, &n), "", "deep comment bounded");
	}
	{
		static char big[1000];
		memset(big, 'x', 500);
		memcpy(big + 500, "@y", 3);
		is_str(parse(big, &n), "", "overlong address skipped");
	}
	return done();
}
