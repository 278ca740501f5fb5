/* libFuzzer target for lib/maildir's parsers: file names
 * (maildir_name_parse), folder names (maildir_folder_path), quota specs
 * (maildir_quota_parse) and maildirsize files (maildir_quota_get). Every
 * field reported must lie inside the input; no path may escape. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maildir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char md[64];

static void
cleanup(void)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", md);
	if (system(cmd) != 0)
		return;
}

static void
quota_file(const uint8_t *data, size_t size)
{
	char p[128];
	struct maildir_quota q;
	int fd;
	if (!md[0]) {
		snprintf(md, sizeof md, "/tmp/pmfuzz-maildir.%ld", (long)getpid());
		if (maildir_make(md, 0700) < 0)
			abort();
		atexit(cleanup);
	}
	snprintf(p, sizeof p, "%s/maildirsize", md);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (maildir_quota_get(md, NULL, &q) == 0 && q.active && (q.bytes < 0 || q.count < 0))
		abort();   /* a negative total must have been recounted */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name n;
	struct maildir_quota q;
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
	if (maildir_quota_parse(s, &q) == 0 && q.active != (q.max_bytes || q.max_count))
		abort();
	if (size <= 8192)
		quota_file(data, size);
	str_free(&p);
	free(s);
	return 0;
}
