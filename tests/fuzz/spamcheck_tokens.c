/* Fuzz spamcheck's tokeniser (cmd/spamcheck/token.c, html.c) over
 * untrusted messages: no crash, tokens inside their text, bounds held
 * (TOK_MAX tokens, TOK_PAIRS body pairs). */
#include <stdint.h>
#include <stdlib.h>
#include "../../cmd/spamcheck/token.c"
#include "../../cmd/spamcheck/html.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct toks t;
	static int init;
	size_t i, pairs = 0;
	if (!init) {
		toks_init(&t);
		init = 1;
	}
	toks_reset(&t);
	if (tokenize(&t, (const char *)data, size) < 0)
		return 0;
	if (t.n > TOK_MAX)
		abort();
	for (i = 0; i < t.n; i++) {
		if ((size_t)t.v[i].off + t.v[i].len > t.text.len)
			abort();
		pairs += t.v[i].pair;
	}
	if (pairs > TOK_PAIRS)
		abort();
	return 0;
}
