#include <string.h>
#include "scan.h"

int
scan_ulong(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -1;
		if (d > max || v > (max - d) / 10)   /* v*10 + d > max, without overflow (max - d must not wrap) */
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
scan_ulongz(const char *s, unsigned long long max, unsigned long long *out)
{
	return scan_ulong(s, strlen(s), max, out);
}

int
scan_uint(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long long v;
	if (scan_ulongz(s, max, &v) < 0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}
