/* Fuzz spamcheck's HTML reducer (cmd/spamcheck/html.c) directly, without
 * the MIME framing the tokeniser target has to find first: no crash, the
 * visible text never longer than the HTML (every entity, tag and alt text
 * shrinks or keeps its bytes), counts within the input, tokens bounded. */
#include <stdint.h>
#include <stdlib.h>
#include "../../cmd/spamcheck/token.c"
#include "../../cmd/spamcheck/html.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct toks t;
	static struct str text;
	static int init;
	struct html_info hi;
	if (!init) {
		toks_init(&t);
		init = 1;
	}
	toks_reset(&t);
	text.len = 0;
	if (html_reduce(&t, &text, (const char *)data, size, &hi) < 0)
		return 0;
	if (text.len > size || t.n > TOK_MAX)
		abort();
	if (hi.imgs > size || hi.links > size || hi.hidden > size || hi.mismatch > hi.links)
		abort();
	return 0;
}
