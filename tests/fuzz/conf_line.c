/* Fuzz the control-file line parsers (domains, users, aliases): no crash;
 * what they accept is valid and lower-cased, and a parsed users line
 * prints and parses back to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
lowercase_only(const struct str *s)
{
	size_t i;
	for (i = 0; i < s->len; i++)
		if (s->s[i] >= 'A' && s->s[i] <= 'Z')
			abort();
}

static void
one(const char *line, size_t len)
{
	struct conf_user u = CONF_USER_INIT, v = CONF_USER_INIT;
	struct str a = STR_INIT, t = STR_INIT, out = STR_INIT;

	if (conf_parse_domain(line, len, &a) > 0) {
		if (!conf_valid_domain(a.s, a.len))
			abort();
		lowercase_only(&a);
	}
	if (conf_parse_alias(line, len, &a, &t) > 0) {
		if (!conf_valid_addr(a.s, a.len, 1) || !t.len || t.s[0] == ',' || t.s[t.len - 1] == ',')
			abort();
		lowercase_only(&a);
	}
	if (conf_parse_user(line, len, &u) > 0) {
		if (!conf_valid_addr(u.addr.s, u.addr.len, 0) || !conf_valid_maildir(u.maildir.s, u.maildir.len))
			abort();
		lowercase_only(&u.addr);
		if (conf_user_line(&u, &out) < 0 || conf_parse_user(out.s, out.len, &v) != 1)
			abort();
		if (strcmp(u.addr.s, v.addr.s) || strcmp(u.hash.s, v.hash.s) || strcmp(u.maildir.s, v.maildir.s) ||
		    u.uid != v.uid || u.gid != v.gid || u.quota != v.quota)
			abort();
	}
	conf_valid_maildir(line, len);
	conf_user_free(&u);
	conf_user_free(&v);
	str_free(&a);
	str_free(&t);
	str_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	/* each line of the input separately, as conf_compile sees them */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		one(p, len);
		p += len + 1;
	}
	return 0;
}
