/* Fuzz dns_idna: whatever the bytes, the output is a DNS name of ASCII
 * labels of 1..63 bytes, at most 253 bytes, and an ASCII name comes out
 * as it went in (less a trailing root dot). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024], out[DNS_NAME_MAX + 1];
	size_t i, label = 0, n, ascii = 1;
	if (size >= sizeof in || memchr(data, 0, size))
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	if (dns_idna(in, out, sizeof out) < 0)
		return 0;
	n = strlen(out);
	if (n == 0 || n > 253)
		abort();
	for (i = 0; i < n; i++) {
		if ((unsigned char)out[i] >= 0x80)
			abort();
		if (out[i] == '.') {
			if (label == 0)
				abort();
			label = 0;
		} else if (++label > 63)
			abort();
	}
	if (label == 0)
		abort();
	for (i = 0; i < size; i++)
		ascii &= data[i] < 0x80;
	if (ascii && (strncmp(out, in, n) != 0 || (size != n && !(size == n + 1 && in[n] == '.'))))
		abort();
	return 0;
}
