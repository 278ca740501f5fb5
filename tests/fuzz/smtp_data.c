/* libFuzzer target for smtp-recv's DATA/BDAT state machine
 * (cmd/smtp-recv/data.c, included: it is pure, with no I/O). The input is
 * fed in chunks whose sizes come from the first byte, in DATA and BDAT
 * mode. Invariants: output never exceeds input; the end of DATA is only
 * ever CR LF . CR LF (or ". CR LF" at the very start); a refused message
 * produces nothing after the refusal; output holds no CR; and the fast path
 * for body text gives exactly what the byte-at-a-time machine gives
 * (tests/unit/smtpdata_ref.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../cmd/smtp-recv/data.c"
#include "../unit/smtpdata_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const char *in, size_t n, int dotted, size_t chunk)
{
	struct smtpdata d, r;
	char *out = malloc(n + 2), *rout = malloc(n + 2);
	size_t pos = 0, olen = 0, rolen = 0;
	if (!out || !rout)
		abort();
	/* a limit the input can cross, now and then */
	smtpdata_init(&d, dotted, n % 3 ? 1 << 20 : n / 2);
	ref_init(&r, dotted, n % 3 ? 1 << 20 : n / 2);
	while (pos < n && !d.done) {
		size_t take = n - pos < chunk ? n - pos : chunk;
		size_t used = smtpdata_feed(&d, in + pos, take, out, &olen);
		if (used > take || olen > pos + used)
			abort();
		if (ref_feed(&r, in + pos, take, rout, &rolen) != used)
			abort();
		pos += used;
		if (used < take && !d.done)
			abort();
	}
	if (olen != rolen || memcmp(out, rout, olen) || d.errors != r.errors || d.size != r.size ||
	    d.lines != r.lines || d.linelen != r.linelen || d.hops != r.hops || d.done != r.done)
		abort();
	free(rout);
	if (d.done) {
		/* the terminator: the last bytes consumed are "\r\n.\r\n", or ".\r\n" at the start */
		if (!((pos >= 5 && memcmp(in + pos - 5, "\r\n.\r\n", 5) == 0) ||
		      (pos == 3 && memcmp(in, ".\r\n", 3) == 0)))
			abort();
		if (!dotted)
			abort();
	}
	if (!dotted)
		smtpdata_finish(&d);
	if (memchr(out, '\r', olen) && !d.errors)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk;
	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	run((const char *)data + 1, size - 1, 1, chunk);
	run((const char *)data + 1, size - 1, 0, chunk);
	run((const char *)data + 1, size - 1, 1, size);
	return 0;
}
