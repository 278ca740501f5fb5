/* Minimal TAP for C unit tests: ok(), is_int(), is_str(), skip(), done(). */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

static inline int
tap_ok(int cond, const char *name, const char *file, int line)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_fail++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, name) tap_ok(!!(cond), (name), __FILE__, __LINE__)
#define is_int(got, want, name) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!ok(g_ == w_, name)) printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_str(got, want, name) do { const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && strcmp(g_, w_) == 0, name)) printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_); } while (0)
#define is_mem(got, glen, want, wlen, name) ok((glen) == (wlen) && memcmp((got), (want), (wlen)) == 0, name)

/* n passing results marked skipped, with the reason */
static inline void
skip(int n, const char *why)
{
	while (n-- > 0) {
		tap_n++;
		printf("ok %d # skip %s\n", tap_n, why);
	}
	fflush(stdout);
}

static inline int
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

#endif
