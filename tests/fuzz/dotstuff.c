/* Fuzz the DATA encoder (THREATS.md I5), fed in pieces the first byte
 * sizes: whatever the line ends, the output has CRLF only, no line over
 * 998 bytes, no "." line before the final one, ends with ".\r\n", and
 * counts one stuffed dot for each line it began with a dot (what SIZE
 * leaves out, RFC 1870). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dotstuff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dotstuff d;
	struct str out = STR_INIT;
	size_t piece, i, start, dots = 0, n;
	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	dotstuff_init(&d);
	for (i = 0; i < size; i += piece)
		if (dotstuff_put(&d, (const char *)data + i, size - i < piece ? size - i : piece, &out) < 0)
			abort();
	if (dotstuff_end(&d, &out) < 0)
		abort();
	n = out.len;
	if (n < 3 || memcmp(out.s + n - 3, ".\r\n", 3) != 0 || (n > 3 && memcmp(out.s + n - 5, "\r\n", 2) != 0))
		abort();
	for (i = 0, start = 0; i < n; i++) {
		if (out.s[i] == '\r' && (i + 1 == n || out.s[i + 1] != '\n'))
			abort();   /* a bare CR */
		if (out.s[i] == '\n' && (i == 0 || out.s[i - 1] != '\r'))
			abort();   /* a bare LF */
		if (out.s[i] != '\n')
			continue;
		if (i - 1 - start > DOTSTUFF_LINE_MAX)
			abort();
		if (i + 1 < n && out.s[start] == '.') {
			/* not the terminator: a data line starting with a dot */
			if (i - 1 - start == 1)
				abort();   /* a lone "." would end the data */
			if (out.s[start + 1] != '.')
				abort();   /* the dot was not doubled */
			dots++;
		}
		start = i + 1;
	}
	if (dots != d.stuffed)
		abort();
	str_free(&out);
	return 0;
}
