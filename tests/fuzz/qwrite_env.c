/* Fuzz the qmail-queue envelope check: no crash, no read past the input,
 * and an accepted envelope has a sender field, recipients and an end.
 * Then the recipients of an accepted one go through qwrite_unique, with
 * the bytes after the envelope as PIPEMAIL_DSN text: what stays is a
 * subsequence of the input with no repeat, and the DSN text loses one
 * line per recipient dropped (when it had a line for each). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "exitcode.h"
#include "qwrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count(const char *s, size_t n, char c)
{
	size_t i, k = 0;
	for (i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static void
unique(const char *env, size_t size)
{
	struct str r = STR_INIT, d = STR_INIT, orig = STR_INIT;
	const char *p = env + strlen(env) + 1, *end, *dsn;
	size_t n, m, i, j, off;
	char *dsncopy;
	int dropped;
	for (; *p; p += strlen(p) + 1)
		if (str_catb(&r, p + 1, strlen(p + 1) + 1) < 0)
			abort();
	end = p + 1;   /* past the terminating empty field */
	dsn = end < env + size ? end : "";
	dsncopy = strndup(dsn, (size_t)(env + size - dsn));
	if (!dsncopy || str_copyb(&orig, r.s, r.len) < 0)
		abort();
	n = count(r.s, r.len, 0);
	dropped = qwrite_unique(&r, dsncopy, &d);
	if (dropped < 0)
		abort();
	m = count(r.s, r.len, 0);
	if (m + (size_t)dropped != n)
		abort();
	/* a subsequence of the original, in order, with no two alike */
	for (i = 0, off = 0; i < r.len; i += strlen(r.s + i) + 1) {
		while (off < orig.len && strcmp(orig.s + off, r.s + i) != 0)
			off += strlen(orig.s + off) + 1;
		if (off >= orig.len)
			abort();
		off += strlen(orig.s + off) + 1;
		for (j = i + strlen(r.s + i) + 1; j < r.len; j += strlen(r.s + j) + 1) {
			const char *a = r.s + i, *b = r.s + j, *aa = strrchr(a, '@'), *bb = strrchr(b, '@');
			size_t la = aa ? (size_t)(aa - a) : strlen(a), lb = bb ? (size_t)(bb - b) : strlen(b);
			if (la == lb && memcmp(a, b, la) == 0 && strlen(a) == strlen(b) &&
			    (!aa || strcasecmp(aa, bb) == 0))
				abort();
		}
	}
	/* one DSN line per recipient after the message's: one line fewer per drop */
	if (dropped && strchr(dsncopy, '\n') && count(dsncopy, strlen(dsncopy), '\n') == n + 1 &&
	    count(d.s ? d.s : "", d.len, '\n') != m + 1)
		abort();
	if (!dropped && (d.len != strlen(dsncopy) || memcmp(d.s ? d.s : "", dsncopy, d.len) != 0))
		abort();
	free(dsncopy);
	str_free(&r);
	str_free(&d);
	str_free(&orig);
}

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
	if (code == QQ_OK)
		unique(copy, size);
	free(copy);
	return 0;
}
