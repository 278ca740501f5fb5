#include "fmt.h"

size_t
fmt_ulong(char out[FMT_ULONG], unsigned long long u)
{
	size_t n = 0, i;
	unsigned long long t = u;
	do
		n++;
	while (t /= 10);
	for (i = n; i > 0; i--) {
		out[i - 1] = (char)('0' + u % 10);
		u /= 10;
	}
	return n;
}
