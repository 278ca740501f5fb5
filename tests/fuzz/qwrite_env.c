/* Fuzz the qmail-queue envelope check: no crash, no read past the input,
 * and an accepted envelope has a sender field, recipients and an end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "exitcode.h"
#include "qwrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *copy = malloc(size ? size : 1);   /* exact size: ASan sees any overread */
	int code;
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	code = qwrite_envelope_check(copy, size, &why);
	if (code != QQ_OK && !why)
		abort();
	if (code == QQ_OK && (size < 5 || copy[0] != 'F' || !memchr(copy, 0, size)))
		abort();
	free(copy);
	return 0;
}
