#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "str.h"
#include "fmt.h"

int
str_ready(struct str *x, size_t n)
{
	size_t want;
	char *p;
	if (n >= SIZE_MAX / 2 - 64) {
		errno = EOVERFLOW;
		return -1;
	}
	if (x->s && n + 1 <= x->cap)
		return 0;
	want = n + 1 + (n >> 3) + 30;   /* amortised growth; cannot overflow after the check above */
	p = realloc(x->s, want);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	x->s = p;
	x->cap = want;
	return 0;
}

int
str_readyplus(struct str *x, size_t n)
{
	if (n > SIZE_MAX - x->len) {
		errno = EOVERFLOW;
		return -1;
	}
	return str_ready(x, x->len + n);
}

int
str_catb(struct str *x, const char *b, size_t n)
{
	if (str_readyplus(x, n) < 0)
		return -1;
	if (n)
		memcpy(x->s + x->len, b, n);
	x->len += n;
	x->s[x->len] = 0;
	return 0;
}

int
str_cats(struct str *x, const char *s)
{
	return str_catb(x, s, strlen(s));
}

int
str_catc(struct str *x, char c)
{
	return str_catb(x, &c, 1);
}

int
str_catu(struct str *x, unsigned long long u)
{
	char tmp[FMT_ULONG];
	return str_catb(x, tmp, fmt_ulong(tmp, u));
}

int
str_copyb(struct str *x, const char *b, size_t n)
{
	if (str_ready(x, n) < 0)
		return -1;
	if (n)
		memmove(x->s, b, n);
	x->len = n;
	x->s[n] = 0;
	return 0;
}

int
str_copys(struct str *x, const char *s)
{
	return str_copyb(x, s, strlen(s));
}

int
str_0(struct str *x)
{
	if (str_readyplus(x, 0) < 0)
		return -1;
	x->s[x->len] = 0;
	return 0;
}

void
str_trunc(struct str *x, size_t len)
{
	if (len < x->len) {
		x->len = len;
		x->s[len] = 0;
	}
}

void
str_free(struct str *x)
{
	free(x->s);
	x->s = NULL;
	x->len = x->cap = 0;
}

int
str_eq(const struct str *x, const char *s)
{
	size_t n = strlen(s);
	return x->len == n && (n == 0 || memcmp(x->s, s, n) == 0);
}

void
str_lower(struct str *x)
{
	size_t i;
	for (i = 0; i < x->len; i++)
		if (x->s[i] >= 'A' && x->s[i] <= 'Z')
			x->s[i] = (char)(x->s[i] + ('a' - 'A'));
}

int
str_8bit(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}
