/* Unit tests for lib/maildir: make, folders, unique names, the
 * tmp -> new delivery routine and its failure paths, name parsing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
	static const char *const bad[] = { "", ".", "..", ".Junk", "Junk.", "a..b", "a/b", "../x", "a\nb", "a\x7f", "\t",
		"INBOX.", "inbox..x", "INBOX./x" };
	struct str p = STR_INIT;
	char want[512];
	size_t i;
	ok(maildir_folder_path(&p, md, "Junk") == 0, "folder Junk");
	snprintf(want, sizeof want, "%s/.Junk", md);
	is_str(p.s, want, "folder path is maildir/.Junk");
	ok(maildir_folder_path(&p, md, "Lists.Work") == 0, "folder Lists.Work");
	snprintf(want, sizeof want, "%s/.Lists.Work", md);
	is_str(p.s, want, "hierarchy kept with '.'");
	ok(maildir_folder_path(&p, md, "InBox") == 1, "folder INBOX (any case) is the Maildir: 1");
	is_str(p.s, md, "INBOX's path is the Maildir");
	ok(maildir_folder_path(&p, md, "INBOX.Lists.Work") == 0, "folder INBOX.Lists.Work");
	snprintf(want, sizeof want, "%s/.Lists.Work", md);
	is_str(p.s, want, "INBOX.Lists.Work is Lists.Work");
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

	maildir_use_tmpfile = 0;   /* the named tmp/ file, as on a file system without O_TMPFILE */
	ok(maildir_tmp_open(&t, md) == 0 && t.fd >= 0 && !t.anon, "tmp_open");
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
	maildir_use_tmpfile = 1;
	str_free(&name);
}

/* An unnamed O_TMPFILE file: nothing in tmp/ at any point, the same
 * result in new/; and when its link is refused, copied into a named one. */
static void
test_deliver_anon(const char *md)
{
	struct maildir_tmp t;
	struct str name = STR_INIT;
	char path[1024], got[64];
	int n0 = count(md, "new");

	ok(maildir_tmp_open(&t, md) == 0 && t.fd >= 0, "tmp_open");
	if (!t.anon) {
		/* a file system without O_TMPFILE, or no /proc: nothing more to see */
		maildir_tmp_abort(&t);
		skip(9, "no O_TMPFILE here");
		return;
	}
	is_int(count(md, "tmp"), 0, "unnamed: nothing in tmp/");
	ok(write(t.fd, "anon\n", 5) == 5, "write");
	ok(maildir_tmp_commit(&t, "new", NULL, 6, &name) == 0 && t.fd == -1, "commit into new/");
	is_int(count(md, "new"), n0 + 1, "one more file in new/");
	snprintf(path, sizeof path, "%s/new/%s", md, name.s);
	ok(readfile(path, got, sizeof got) == 5 && memcmp(got, "anon\n", 5) == 0 && strstr(name.s, ",S=5,W=6"),
	    "delivered bytes and name");

	ok(maildir_tmp_open(&t, md) == 0 && t.anon, "tmp_open for abort");
	maildir_tmp_abort(&t);
	is_int(count(md, "tmp") + count(md, "new"), n0 + 1, "abort leaves nothing");

	maildir_use_tmpfile = 2;   /* the link through /proc refused: copied into tmp/NAME */
	ok(maildir_tmp_open(&t, md) == 0 && t.anon && write(t.fd, "copy\n", 5) == 5 &&
	    maildir_tmp_commit(&t, "new", NULL, (size_t)-1, &name) == 0, "commit after a refused link");
	snprintf(path, sizeof path, "%s/new/%s", md, name.s);
	ok(readfile(path, got, sizeof got) == 5 && memcmp(got, "copy\n", 5) == 0 && count(md, "tmp") == 0,
	    "the copy delivered, tmp/ empty");
	maildir_use_tmpfile = 1;
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

static void
put(const char *md, const char *text)
{
	char p[512];
	int fd;
	snprintf(p, sizeof p, "%s/maildirsize", md);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		exit(2);
	close(fd);
}

static void
test_quota(const char *md)
{
	static const char *const bad[] = { "12X", "S", "10S,", ",10S", "10S,,5C", "-5", "10 S", "10s", "99999999999999999999999" };
	struct maildir_quota q;
	char got[256];
	char p[512];
	size_t i;

	ok(maildir_quota_parse("1000", &q) == 0 && q.active && q.max_bytes == 1000 && q.max_count == 0, "plain bytes");
	ok(maildir_quota_parse("1000S,20C", &q) == 0 && q.max_bytes == 1000 && q.max_count == 20, "Maildir++ S and C");
	ok(maildir_quota_parse("20C", &q) == 0 && q.active && q.max_bytes == 0 && q.max_count == 20, "count only");
	ok(maildir_quota_parse("0", &q) == 0 && !q.active, "0: no quota");
	ok(maildir_quota_parse("", &q) == 0 && !q.active, "empty: no quota");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "malformed quota %zu refused", i);
		errno = 0;
		ok(maildir_quota_parse(bad[i], &q) < 0 && errno == EINVAL && !q.active, name);
	}

	q.active = 1, q.max_bytes = 100, q.max_count = 0, q.bytes = 90, q.count = 1;
	ok(!maildir_quota_over(&q, 10, 1) && maildir_quota_over(&q, 11, 1), "over: bytes boundary");
	ok(maildir_quota_over(&q, ~0ULL, 1), "over: huge addition does not wrap");
	q.bytes = -50;
	ok(!maildir_quota_over(&q, 100, 1), "negative usage counts as 0");
	q.max_count = 2, q.count = 1;
	ok(!maildir_quota_over(&q, 0, 1) && maildir_quota_over(&q, 0, 2), "over: count boundary");
	q.active = 0;
	ok(!maildir_quota_over(&q, ~0ULL, ~0ULL), "inactive quota is never over");

	/* the Maildir from test_deliver holds 6+1 bytes in 2 messages */
	snprintf(p, sizeof p, "%s/maildirsize", md);
	unlink(p);
	ok(maildir_quota_get(md, NULL, &q) == 0 && !q.active, "no maildirsize, no spec: no quota");
	ok(maildir_quota_add(md, 5, 1) == 0 && access(p, F_OK) < 0, "add without maildirsize creates nothing");
	ok(maildir_quota_get(md, "1000S", &q) == 0 && q.active && q.bytes == 7 && q.count == 2, "spec: recounted 7 bytes, 2 messages");
	is_int(readfile(p, got, sizeof got - 1), 10, "maildirsize written");
	got[10] = 0;
	is_str(got, "1000S\n7 2\n", "maildirsize content");
	ok(maildir_quota_add(md, 100, 1) == 0 && maildir_quota_add(md, -7, -1) == 0, "add and subtract");
	ok(maildir_quota_get(md, NULL, &q) == 0 && q.max_bytes == 1000 && q.bytes == 100 && q.count == 2, "deltas summed");
	put(md, "500S,3C\n  10   1\n");
	ok(maildir_quota_get(md, NULL, &q) == 0 && q.max_bytes == 500 && q.max_count == 3 && q.bytes == 10 && q.count == 1,
	    "padded columns accepted");
	put(md, "500S\n10 1\n5");
	ok(maildir_quota_get(md, NULL, &q) == 0 && q.bytes == 7 && q.count == 2, "torn last line: recounted");
	put(md, "500S\nabc def\n");
	ok(maildir_quota_get(md, NULL, &q) == 0 && q.bytes == 7 && q.max_bytes == 500, "garbage: recounted, quota kept");
	put(md, "nonsense\n1 1\n");
	ok(maildir_quota_get(md, NULL, &q) == 0 && !q.active, "unreadable quota line, no spec: no quota");
	ok(maildir_quota_get(md, "0", &q) == 0 && !q.active, "spec 0: no quota");
	ok(maildir_quota_get(md, "x", &q) < 0 && errno == EINVAL, "malformed spec refused");
	put(md, "");
	ok(maildir_quota_get(md, "2C", &q) == 0 && q.max_count == 2 && q.count == 2 && maildir_quota_over(&q, 0, 1),
	    "empty file with spec: recounted, full");
	is_int(count(md, "tmp"), 0, "recounts leave nothing in tmp/");
	/* the Maildir is the user's: a FIFO as maildirsize must not block
	 * the delivery (a shared delivery worker) for good; SIGALRM ends
	 * this test if it does */
	unlink(p);
	if (mkfifo(p, 0600) == 0) {
		struct stat st;
		alarm(10);
		ok(maildir_quota_get(md, NULL, &q) == 0 && !q.active, "FIFO as maildirsize, no spec: no quota, no hang");
		ok(maildir_quota_add(md, 5, 1) < 0, "FIFO as maildirsize: add fails, no hang");
		ok(maildir_quota_get(md, "1000S", &q) == 0 && q.bytes == 7 && q.count == 2, "FIFO with spec: recounted");
		ok(stat(p, &st) == 0 && S_ISREG(st.st_mode), "and replaced by a plain maildirsize");
		alarm(0);
	} else
		skip(4, "no FIFO here");
	unlink(p);
}

/* tmp/ sweep: a file 36 hours untouched goes, a touched one, a directory
 * and a symbolic link stay; at most max entries are looked at */
static void
test_sweep(const char *md)
{
	char p[512];
	struct timespec later[2];
	int fd = open(md, O_RDONLY | O_DIRECTORY), i;
	time_t now = time(NULL), then = now + 37 * 3600;
	static const char *const junk[] = { "junk1", "junk2", "junk3" };
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/tmp/%s", md, junk[i]);
		close(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	}
	snprintf(p, sizeof p, "%s/tmp/fresh", md);
	close(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	later[0].tv_sec = later[1].tv_sec = now + 24 * 3600;   /* touched 13 h before "then" */
	later[0].tv_nsec = later[1].tv_nsec = 0;
	ok(utimensat(AT_FDCWD, p, later, 0) == 0, "sweep: a file touched later");
	snprintf(p, sizeof p, "%s/tmp/dir", md);
	ok(mkdir(p, 0700) == 0, "sweep: a directory in tmp/");
	snprintf(p, sizeof p, "%s/tmp/link", md);
	ok(symlink("/nonexistent", p) == 0, "sweep: a symbolic link in tmp/");
	ok(maildir_tmp_sweep(fd, now, 1000) == 0 && count(md, "tmp") == 6, "sweep now: nothing is 36 hours old");
	ok(maildir_tmp_sweep(fd, then, 1) <= 1 && count(md, "tmp") >= 5, "sweep looks at no more than max entries");
	ok(maildir_tmp_sweep(fd, then, 1000) >= 0 && count(md, "tmp") == 3, "sweep 37 hours on: the three untouched files gone");
	snprintf(p, sizeof p, "%s/tmp/fresh", md);
	ok(access(p, F_OK) == 0, "the touched file stays");
	unlink(p);
	snprintf(p, sizeof p, "%s/tmp/dir", md);
	rmdir(p);
	snprintf(p, sizeof p, "%s/tmp/link", md);
	unlink(p);
	ok(maildir_tmp_sweep(-1, now, 10) == -1, "sweep: no Maildir, -1");
	close(fd);
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
	{
		char md2[256];
		snprintf(md2, sizeof md2, "%s/Anon", top);
		ok(maildir_make(md2, 0700) == 0, "a second Maildir");
		test_deliver_anon(md2);
	}
	test_parse();
	test_quota(md);
	test_sweep(md);
	{
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		if (system(cmd) != 0)
			return 2;
	}
	return done();
}
