/* libFuzzer target: maildir_name_parse and maildir_folder_path on
 * arbitrary bytes; every field it reports must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "maildir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name n;
	struct str p = STR_INIT;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (maildir_name_parse(s, &n) == 0) {
		size_t len = strlen(s);
		if (n.uniq != s || n.uniqlen == 0 || n.uniqlen > len)
			abort();
		if (n.flags && (n.flags < s || n.flags + n.flagslen > s + len))
			abort();
	}
	if (maildir_folder_path(&p, "/m", s) == 0 && (strchr(p.s + 3, '/') || strstr(p.s, "..")))
		abort();
	str_free(&p);
	free(s);
	return 0;
}
