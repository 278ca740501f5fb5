/* Fuzz the number scanner: it must never accept a value above max, and
 * must agree with a slow reference. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long v, max = 1000000007ULL, ref = 0;
	size_t i;
	int valid = size > 0;
	for (i = 0; i < size && valid; i++) {
		if (data[i] < '0' || data[i] > '9' || ref > max)
			valid = 0;
		else
			ref = ref * 10 + (data[i] - '0');
	}
	if (valid && ref > max)
		valid = 0;
	if (scan_ulong((const char *)data, size, max, &v) == 0) {
		if (!valid || v != ref || v > max)
			abort();
	} else if (valid) {
		abort();
	}
	return 0;
}
