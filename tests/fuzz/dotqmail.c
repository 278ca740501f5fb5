/* Fuzz the delivery file parser: no crash, entries point inside the buffer
 * and carry no control bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dotqmail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dotqmail_entry e[DOTQMAIL_ENTRIES_MAX];
	char *b = malloc(size + 1);
	int n, i;
	if (!b)
		return 0;
	memcpy(b, data, size);
	n = dotqmail_parse(b, size, e, DOTQMAIL_ENTRIES_MAX);
	for (i = 0; i < n; i++) {
		if (e[i].arg < b || e[i].arg > b + size || !*e[i].arg)
			abort();
		if (strchr(e[i].arg, '\n'))
			abort();
		if (e[i].type == DQ_MAILDIR && e[i].arg[strlen(e[i].arg) - 1] != '/')
			abort();
	}
	free(b);
	return 0;
}
