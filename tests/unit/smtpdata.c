/* Unit tests for smtp-recv's DATA/BDAT state machine (cmd/smtp-recv/data.c,
 * included: it is pure). Its fast path for body text must give exactly
 * what the byte-at-a-time machine gives (smtpdata_ref.h): output, counts,
 * errors and where DATA ends, for every chunking of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../cmd/smtp-recv/data.c"
#include "smtpdata_ref.h"
#include "tap.h"

struct result {
	char *out;
	size_t olen, used;
	struct smtpdata d;
};

/* feed in[0..n) in chunks of at most chunk bytes (0: chunk sizes from the PRNG) */
static uint32_t rng = 2463534242u;
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
run(int ref, const char *in, size_t n, int dotted, unsigned long long max, size_t chunk, uint32_t seed, struct result *r)
{
	size_t pos = 0;
	uint32_t keep = rng;
	rng = seed;
	r->out = malloc(n + 2);
	r->olen = 0;
	if (!r->out)
		abort();
	if (ref)
		ref_init(&r->d, dotted, max);
	else
		smtpdata_init(&r->d, dotted, max);
	while (pos < n && !r->d.done) {
		size_t c = chunk ? chunk : rnd() % 300 + 1, take = n - pos < c ? n - pos : c;
		pos += ref ? ref_feed(&r->d, in + pos, take, r->out, &r->olen)
		           : smtpdata_feed(&r->d, in + pos, take, r->out, &r->olen);
	}
	if (!dotted) {
		if (ref)
			ref_finish(&r->d);
		else
			smtpdata_finish(&r->d);
	}
	r->used = pos;
	rng = keep;
}

static int
same(const char *in, size_t n, int dotted, unsigned long long max, size_t chunk)
{
	struct result a, b;
	uint32_t seed = rnd() | 1;
	int eq;
	run(0, in, n, dotted, max, chunk, seed, &a);
	run(1, in, n, dotted, max, chunk, seed, &b);
	eq = a.olen == b.olen && memcmp(a.out, b.out, a.olen) == 0 && a.used == b.used &&
	     a.d.errors == b.d.errors && a.d.done == b.d.done && a.d.size == b.d.size &&
	     a.d.lines == b.d.lines && a.d.linelen == b.d.linelen && a.d.hops == b.d.hops &&
	     a.d.inheader == b.d.inheader && a.d.state == b.d.state;
	if (!eq)
		printf("#   fast: olen %zu used %zu errors %u size %llu lines %llu linelen %zu; "
		       "ref: olen %zu used %zu errors %u size %llu lines %llu linelen %zu\n",
		       a.olen, a.used, a.d.errors, a.d.size, a.d.lines, a.d.linelen,
		       b.olen, b.used, b.d.errors, b.d.size, b.d.lines, b.d.linelen);
	free(a.out);
	free(b.out);
	return eq;
}

/* a message of n bytes drawn from an alphabet rich in the bytes that matter */
static size_t
random_message(char *buf, size_t cap)
{
	static const char alpha[] = "\r\n.\r\n..aZ \t\0\x80Received: delivered-to:";
	size_t n = rnd() % cap, i = 0;
	while (i < n) {
		uint32_t k = rnd() % 10;
		if (k < 3) {   /* a run of text, sometimes past the line limit */
			size_t len = rnd() % (k == 0 ? 1200 : 80);
			while (len-- && i < n)
				buf[i++] = (char)('a' + rnd() % 26);
		} else if (k < 5 && i + 2 <= n) {
			buf[i++] = '\r';
			buf[i++] = '\n';
		} else
			buf[i++] = alpha[rnd() % (sizeof alpha - 1)];
	}
	return n;
}

#define M(s) { s, sizeof s - 1 }
static const struct { const char *s; size_t n; } msgs[] = {
	M("Subject: x\r\n\r\nbody\r\n.\r\n"),
	M("Received: a\r\nReceived: b\r\n\r\n..dotted\r\n.x\r\n.\r\nMAIL FROM:<a@b>\r\n"),
	/* the smuggling sequences of THREATS.md I5, each before a smuggled command */
	M("\r\nx\n.\nMAIL FROM:<a@b>\r\n.\r\n"), M("\r\nx\r.\rMAIL FROM:<a@b>\r\n.\r\n"),
	M("\r\nx\r.\nMAIL FROM:<a@b>\r\n.\r\n"), M("\r\nx\n.\rMAIL FROM:<a@b>\r\n.\r\n"),
	M("\r\nx\n.\r\nMAIL FROM:<a@b>\r\n.\r\n"), M("\r\nx\r\n.\nMAIL FROM:<a@b>\r\n.\r\n"),
	M("\r\nx\r.\r\nMAIL FROM:<a@b>\r\n.\r\n"), M("\r\nx\r\n.\rMAIL FROM:<a@b>\r\n.\r\n"),
	M("\r\nx\r\n\0.\r\nMAIL FROM:<a@b>\r\n.\r\n"), M("\r\nx\r\r\n.\r\r\nMAIL FROM:<a@b>\r\n.\r\n"),
	M(".\r\n"), M("\r\nunterminated\r\n.\r"),
};

static void
test_cases(void)
{
	size_t i, c;
	int bad = 0;
	for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
		for (c = 0; c <= 8; c++)
			bad += !same(msgs[i].s, msgs[i].n, 1, 1 << 20, c) + !same(msgs[i].s, msgs[i].n, 0, 1 << 20, c);
	is_int(bad, 0, "smuggling sequences and dot-stuffing, DATA and BDAT, every chunk size: fast path = byte at a time");
}

/* the line and size limits at every offset around the byte that crosses them */
static void
test_limits(void)
{
	char buf[4096];
	size_t len, m;
	int bad = 0;
	memcpy(buf, "S: x\r\n\r\n", 8);
	for (len = 990; len <= 1004; len++) {
		memset(buf + 8, 'a', len);
		memcpy(buf + 8 + len, "\r\nend\r\n.\r\n", 10);
		for (m = 990; m <= 1020; m++)
			bad += !same(buf, 8 + len + 10, 1, m, 0) + !same(buf, 8 + len + 10, 1, m, 7) +
			       !same(buf, 8 + len + 10, 0, m, 0);
	}
	is_int(bad, 0, "line and size limits at every offset: fast path = byte at a time");
}

static void
test_random(void)
{
	static char buf[8192];
	int i, bad = 0;
	for (i = 0; i < 20000; i++) {
		size_t n = random_message(buf, sizeof buf);
		unsigned long long max = rnd() % 4 ? 1 << 20 : rnd() % 3000;
		bad += !same(buf, n, (int)(rnd() & 1), max, rnd() % 3 ? 0 : rnd() % 5 + 1);
	}
	is_int(bad, 0, "20,000 random messages, random chunks and limits: fast path = byte at a time");
}

int
main(void)
{
	test_cases();
	test_limits();
	test_random();
	done();
}
