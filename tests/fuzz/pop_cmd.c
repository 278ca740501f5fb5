/* Fuzz the POP3 command parser (cmd/pop-serve/popcmd.c): no crash,
 * arguments stay inside the line and free of refused bytes, numbers
 * within their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include "../../cmd/pop-serve/popcmd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct popcmd c;
	unsigned long n;
	unsigned long long v;
	int k;
	popcmd_parse(line, size, &c);
	if (c.verb == POP_BAD && !c.why)
		abort();
	for (k = 0; k < c.nargs; k++) {
		if (c.arg[k] < line || c.arg[k] + c.arglen[k] > line + size || c.arglen[k] == 0)
			abort();
		/* a password holds no NUL, CR or LF; other arguments no control byte */
		for (size_t j = 0; j < c.arglen[k]; j++) {
			unsigned char ch = (unsigned char)c.arg[k][j];
			if (c.verb == POP_PASS ? ch == 0 || ch == '\r' || ch == '\n' : ch < 32 || ch == 127)
				abort();
		}
		if (popcmd_msgno(c.arg[k], c.arglen[k], 1000, &n) == 0 && (n < 1 || n > 1000))
			abort();
		if (popcmd_count(c.arg[k], c.arglen[k], 5000, &v) == 0 && v > 5000)
			abort();
	}
	return 0;
}
