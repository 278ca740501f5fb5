/* Fuzz the RFC 5322 address-list parser: no crash; every address is
 * non-empty, bounded and free of control bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addrlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str out = STR_INIT;
	size_t n = 0, i, k = 0;
	if (addrlist_parse((const char *)data, size, &out, &n) == 0) {
		for (i = 0; i < out.len; i += strlen(out.s + i) + 1) {
			size_t len = strlen(out.s + i);
			if (len == 0 || len > ADDRLIST_ADDR_MAX)
				abort();
			for (size_t j = 0; j < len; j++)
				if ((unsigned char)out.s[i + j] < 0x20)
					abort();
			k++;
		}
		if (k != n)
			abort();
	}
	str_free(&out);
	return 0;
}
