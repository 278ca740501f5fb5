/* The POP3 command parser (cmd/pop-serve/popcmd.c): message numbers and
 * TOP counts are scanned whole, range checked and never wrap. */
#include <string.h>
#include "tap.h"
#include "../../cmd/pop-serve/popcmd.c"

static void
parse(const char *s, struct popcmd *c)
{
	popcmd_parse(s, strlen(s), c);
}

static int
msgno(const char *s, unsigned long max, unsigned long *n)
{
	return popcmd_msgno(s, strlen(s), max, n);
}

int
main(void)
{
	unsigned long n = 0;
	unsigned long long v = 0;
	struct popcmd c;
	parse("PASS a\tb c", &c);
	is_int(c.verb, POP_PASS, "PASS with a TAB in the password");
	is_int((int)c.arglen[0], 5, "the password is the rest of the line");
	is_int(memcmp(c.arg[0], "a\tb c", 5), 0, "TAB and space kept");
	parse("pass \x01\x7f", &c);
	is_int(c.verb, POP_PASS, "PASS with other control bytes");
	popcmd_parse("PASS a\0b", 8, &c);
	is_int(c.verb, POP_BAD, "PASS with a NUL refused (it would cut the password short)");
	parse("PASS a\rb", &c);
	is_int(c.verb, POP_BAD, "PASS with a bare CR refused");
	parse("USER a\tb", &c);
	is_int(c.verb, POP_BAD, "USER with a TAB refused");
	parse("PA\tS x", &c);
	is_int(c.verb, POP_BAD, "control byte in the keyword refused");
	parse("STAT\x01", &c);
	is_int(c.verb, POP_BAD, "control byte after another command refused");
	parse("XYZZY\t", &c);
	is_int(c.verb, POP_BAD, "unknown command with a control byte refused");
	is_int(msgno("1", 2, &n), 0, "1 of 2");
	is_int(n, 1, "is 1");
	is_int(msgno("02", 2, &n), 0, "leading zero accepted");
	is_int(n, 2, "02 is 2");
	is_int(msgno("0", 2, &n), -1, "0 refused");
	is_int(msgno("3", 2, &n), -1, "past the count refused");
	is_int(msgno("-1", 2, &n), -1, "negative refused");
	is_int(msgno("1x", 2, &n), -1, "trailing junk refused");
	is_int(msgno("", 2, &n), -1, "empty refused");
	/* past 2^64: never wraps to a small number */
	is_int(msgno("18446744073709551617", 2, &n), -1, "2^64+1 does not wrap to message 1");
	is_int(msgno("18446744073709551626", 9, &n), -1, "2^64+10 does not wrap");
	is_int(msgno("99999999999999999999999", 2, &n), -1, "huge refused");
	is_int(popcmd_count("18446744073709551617", 20, 3, &v), 0, "count: 2^64+1 saturates");
	is_int(v, 3, "to the max");
	is_int(popcmd_count("7", 1, 3, &v), 0, "count: 7 with max 3");
	is_int(v, 3, "saturates to 3");
	is_int(popcmd_count("10", 2, (unsigned long long)-2, &v), 0, "count 10");
	is_int(v, 10, "is 10");
	return done();
}
