/* Unit tests for lib/maildir: make, folders, unique names, the
 * tmp -> new delivery routine and its failure paths, name parsing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"
#include "str.h"
#include "tap.h"

static char top[] = "/tmp/pmunit-maildir.XXXXXX";

static int
count(const char *dir, const char *sub)
{
	char p[512];
	DIR *d;
	struct dirent *e;
	int n = 0;
	if (snprintf(p, sizeof p, "%s/%s", dir, sub) >= (int)sizeof p)
		return -1;
	if (!(d = opendir(p)))
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
isdir(const char *dir, const char *sub)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, sub);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
test_make(const char *md)
{
	ok(maildir_make(md, 0700) == 0, "maildir_make");
	ok(isdir(md, "tmp") && isdir(md, "new") && isdir(md, "cur"), "tmp new cur exist");
	ok(maildir_make(md, 0700) == 0, "maildir_make on an existing maildir");
	ok(maildir_make("/nonexistent-pm/x/y", 0700) < 0 && errno == ENOENT, "maildir_make missing parent: ENOENT");
}

static void
test_folder(const char *md)
{
	static const char *const bad[] = { "", ".", "..", ".Junk", "Junk.", "a..b", "a/b", "../x", "a\nb", "a\x7f", "\t" };
	struct str p = STR_INIT;
	char want[512];
	size_t i;
	ok(maildir_folder_path(&p, md, "Junk") == 0, "folder Junk");
	snprintf(want, sizeof want, "%s/.Junk", md);
	is_str(p.s, want, "folder path is maildir/.Junk");
	ok(maildir_folder_path(&p, md, "Lists.Work") == 0, "folder Lists.Work");
	snprintf(want, sizeof want, "%s/.Lists.Work", md);
	is_str(p.s, want, "hierarchy kept with '.'");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "folder name %zu refused with EINVAL", i);
		errno = 0;
		ok(maildir_folder_path(&p, md, bad[i]) < 0 && errno == EINVAL, name);
	}
	str_free(&p);
}

static void
test_uniq(void)
{
	struct str a = STR_INIT, b = STR_INIT;
	char pid[32];
	ok(maildir_uniq(&a) == 0 && maildir_uniq(&b) == 0, "maildir_uniq");
	ok(a.len && b.len && strcmp(a.s, b.s) != 0, "two names differ");
	snprintf(pid, sizeof pid, "P%ldQ", (long)getpid());
	ok(strstr(a.s, ".M") && strstr(a.s, pid), "name has .M<usec> and P<pid>Q");
	ok(!strchr(a.s, '/') && !strchr(a.s, ':') && !strchr(a.s, ','), "no '/', ':' or ',' in the name");
	str_free(&a);
	str_free(&b);
}

static int
readfile(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;
	if (fd < 0)
		return -1;
	r = read(fd, out, cap);
	close(fd);
	return (int)r;
}

static void
test_deliver(const char *md)
{
	struct maildir_tmp t;
	struct str name = STR_INIT;
	struct maildir_name mn;
	char path[1024], got[64];
	struct stat st;

	ok(maildir_tmp_open(&t, md) == 0 && t.fd >= 0, "tmp_open");
	ok(count(md, "tmp") == 1, "one file in tmp/");
	ok(write(t.fd, "hello\n", 6) == 6, "write");
	ok(maildir_tmp_commit(&t, "new", NULL, 7, &name) == 0, "commit into new/");
	ok(t.fd == -1, "fd closed");
	is_int(count(md, "tmp"), 0, "tmp/ empty after commit");
	is_int(count(md, "new"), 1, "one file in new/");
	ok(strstr(name.s, ",S=6,W=7") != NULL && !strchr(name.s, ':'), "name carries ,S=6,W=7, no info");
	snprintf(path, sizeof path, "%s/new/%s", md, name.s);
	is_int(readfile(path, got, sizeof got), 6, "delivered size");
	ok(memcmp(got, "hello\n", 6) == 0, "delivered bytes");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	ok(maildir_name_parse(name.s, &mn) == 0 && mn.has_size && mn.size == 6 && mn.has_vsize && mn.vsize == 7,
	    "own name parses back");

	ok(maildir_tmp_open(&t, md) == 0, "tmp_open for cur/");
	ok(write(t.fd, "x", 1) == 1, "write");
	ok(maildir_tmp_commit(&t, "cur", "2,S", (size_t)-1, &name) == 0, "commit into cur/ with info");
	ok(strstr(name.s, ",S=1:2,S") != NULL && !strstr(name.s, ",W="), "name ends ,S=1:2,S without ,W=");
	is_int(count(md, "cur"), 1, "one file in cur/");

	ok(maildir_tmp_open(&t, md) == 0, "tmp_open for abort");
	maildir_tmp_abort(&t);
	is_int(count(md, "tmp"), 0, "abort removes the tmp file");

	/* a failing commit: target directory missing */
	ok(maildir_tmp_open(&t, md) == 0, "tmp_open");
	ok(write(t.fd, "y", 1) == 1, "write");
	ok(maildir_tmp_commit(&t, "nosuchdir", NULL, (size_t)-1, NULL) < 0 && errno == ENOENT, "commit into a missing dir fails ENOENT");
	is_int(count(md, "tmp"), 0, "failed commit removes the tmp file");
	is_int(count(md, "new"), 1, "new/ unchanged");

	ok(maildir_tmp_open(&t, "/nonexistent-pm") < 0 && errno == ENOENT && t.fd == -1, "tmp_open on a missing maildir");
	str_free(&name);
}

static void
test_parse(void)
{
	static const char *const bad[] = { "", ".hidden", ",S=5", ":2,S", "a/b", "..", "." };
	struct maildir_name n;
	size_t i;

	ok(maildir_name_parse("1700000000.M1P2Q3.host", &n) == 0, "plain name");
	ok(n.uniqlen == strlen("1700000000.M1P2Q3.host") && !n.flags && !n.has_size && !n.has_vsize, "no size, no flags");
	ok(maildir_name_parse("123.abc.host,S=4096,W=4200:2,FRS", &n) == 0, "full name");
	is_int(n.uniqlen, 12, "uniq up to ','");
	ok(n.has_size && n.size == 4096 && n.has_vsize && n.vsize == 4200, "S= and W=");
	ok(n.flags && n.flagslen == 3 && memcmp(n.flags, "FRS", 3) == 0, "flags FRS");
	ok(maildir_name_parse("123.host:2,", &n) == 0 && n.flags && n.flagslen == 0 && n.uniqlen == 8, "empty flags");
	ok(maildir_name_parse("123.host:1,xyz", &n) == 0 && !n.flags, "experimental :1, info: no flags");
	ok(maildir_name_parse("123.host,S=12x:2,S", &n) == 0 && !n.has_size, "bad S= value: no size, still a message");
	ok(maildir_name_parse("123.host,S=99999999999999999999999", &n) == 0 && !n.has_size, "overflowing S=: no size");
	ok(maildir_name_parse("123.host,S=", &n) == 0 && !n.has_size, "empty S=: no size");
	ok(maildir_name_parse("123.host,X=1,S=7", &n) == 0 && n.has_size && n.size == 7, "unknown field skipped");
	ok(maildir_name_parse("123.host,S=-1", &n) == 0 && !n.has_size, "negative S=: no size");
	ok(maildir_name_parse("123.host:2,S,S=5", &n) == 0 && !n.has_size && n.flagslen == 5, "S= after the info is not a size");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "malformed name %zu refused", i);
		ok(maildir_name_parse(bad[i], &n) < 0, name);
	}
	ok(maildir_name_parse(NULL, &n) < 0, "NULL refused");
}

int
main(void)
{
	char md[256];
	if (!mkdtemp(top))
		return 2;
	snprintf(md, sizeof md, "%s/Maildir", top);
	test_make(md);
	test_folder(md);
	test_uniq();
	test_deliver(md);
	test_parse();
	{
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		if (system(cmd) != 0)
			return 2;
	}
	return done();
}
