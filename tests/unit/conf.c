/* Unit tests for conf: text parsers, compilation, every lookup through
 * cdb, corrupt and missing databases, +detail and catch-all. */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "tap.h"

static char dir[] = "/tmp/conf-unit.XXXXXX";

static void
putb(const char *name, const char *text, size_t n)
{
	char p[256];
	int fd;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		exit(2);
	close(fd);
}

static void
put(const char *name, const char *text)
{
	putb(name, text, strlen(text));
}

static void
rm(const char *name)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	unlink(p);
}

static mode_t
mode_of(const char *name)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (stat(p, &st) < 0)
		return 0;
	return st.st_mode & 07777;
}

static void
test_basics(void)
{
	struct str s = STR_INIT;
	unsetenv("PIPEMAIL_CONF");
	is_str(conf_dir(), "/etc/pipemail", "default control dir");
	setenv("PIPEMAIL_CONF", dir, 1);
	is_str(conf_dir(), dir, "PIPEMAIL_CONF");
	conf_path(&s, "users");
	ok(s.len == strlen(dir) + 6 && !strcmp(s.s + strlen(dir), "/users"), "conf_path");

	is_int(conf_line("me", &s), 0, "conf_line absent file: 0");
	put("me", "");
	is_int(conf_line("me", &s), 0, "conf_line empty file: 0");
	put("me", "  \t\r\n");
	is_int(conf_line("me", &s), 0, "conf_line blank line: 0");
	put("me", "  mx.example.test \r\nsecond\n");
	is_int(conf_line("me", &s), 1, "conf_line found");
	is_str(s.s, "mx.example.test", "conf_line trimmed, first line only");
	put("me", "nonewline");
	ok(conf_line("me", &s) == 1 && !strcmp(s.s, "nonewline"), "conf_line without a newline");
	ok(conf_me(&s) == 0 && !strcmp(s.s, "nonewline"), "conf_me from the me file");
	/* a control byte would reach SMTP replies and headers through "me" */
	putb("me", "mx\0evil\n", 8);
	errno = 0;
	ok(conf_line("me", &s) == -1 && errno == EINVAL, "conf_line: a NUL byte is an error");
	ok(conf_me(&s) == -1 && errno == EINVAL, "conf_me: no host name cut at a NUL");
	put("me", "mx\rRCPT TO:<x@y>\n");
	errno = 0;
	ok(conf_line("me", &s) == -1 && errno == EINVAL, "conf_line: a CR inside is an error");
	put("me", "mx\x7f\n");
	ok(conf_line("me", &s) == -1 && errno == EINVAL, "conf_line: DEL is an error");
	put("me", "\tmx.example.test\t\r\n");
	ok(conf_line("me", &s) == 1 && !strcmp(s.s, "mx.example.test"), "conf_line: blanks at the ends still trimmed");
	put("me", "m\xc3\xbcller.example\n");
	ok(conf_line("me", &s) == 1 && s.len == 15, "conf_line: 8-bit bytes kept");
	rm("me");
	ok(conf_me(&s) == 0 && s.len > 0, "conf_me falls back to gethostname");
	str_free(&s);
}

static void
test_valid(void)
{
	static const char *const good[] = { "a@b.c", "first.last@example.test", "a+b@x", "x-y_z=1~!%&*?^{}#@d-1.example",
		"A@EXAMPLE.TEST" };
	static const char *const bad[] = { "", "a", "@", "a@", "@b", "a@b@c", "a:b@c", "a/b@c", "a b@c", "a\tb@c",
		"a\001@c", ".a@c", "a.@c", "a..b@c", "#a@c", "a@b..c", "a@.b", "a@b.", "a@b_c", "a@b:c", "a@b/c",
		"a\"b@c", "a\\b@c", "a<b@c", "a,b@c", "a|b@c", "a`b@c", "a$b@c", "\xc3\xa9@c" };
	char longlocal[80], longaddr[CONF_ADDR_MAX + 8], label[80];
	size_t i;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(conf_valid_addr(good[i], strlen(good[i]), 0), good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(!conf_valid_addr(bad[i], strlen(bad[i]), 0), "address refused");
	ok(conf_valid_addr("@example.test", 13, 1), "catch-all allowed where asked");
	ok(!conf_valid_addr("@example.test", 13, 0), "catch-all refused for users");
	memset(longlocal, 'a', 65);
	strcpy(longlocal + 65, "@x");
	ok(!conf_valid_addr(longlocal, strlen(longlocal), 0), "local part over 64 refused");
	memset(longaddr, 'a', sizeof longaddr - 1);
	longaddr[sizeof longaddr - 1] = 0;
	longaddr[10] = '@';
	for (i = 70; i < sizeof longaddr - 1; i += 60)
		longaddr[i] = '.';
	ok(!conf_valid_addr(longaddr, strlen(longaddr), 0), "address over CONF_ADDR_MAX refused");
	memset(label, 'a', 64);
	label[64] = 0;
	ok(!conf_valid_domain(label, 64), "label over 63 refused");
	ok(conf_valid_domain(label, 63), "label of 63 allowed");
	ok(conf_valid_maildir("/var/mail/x/Maildir", 19), "maildir ok");
	ok(conf_valid_maildir("/a/.b/..c/", 10), "dot-names that are not . or .. ok");
	ok(!conf_valid_maildir("rel/Maildir", 11), "relative maildir refused");
	ok(!conf_valid_maildir("/a/../b", 7), "maildir with .. refused");
	ok(!conf_valid_maildir("/a/./b", 6), "maildir with . refused");
	ok(!conf_valid_maildir("/a/..", 5), "maildir ending in .. refused");
	ok(!conf_valid_maildir("/a:b", 4), "maildir with ':' refused");
	ok(!conf_valid_maildir("/a b", 4), "maildir with a space refused");
	ok(!conf_valid_maildir("/a\nb", 4), "maildir with a newline refused");
}

static void
test_parsers(void)
{
	struct conf_user u = CONF_USER_INIT;
	struct str a = STR_INIT, t = STR_INIT;
	static const char *const badusers[] = {
		"a@x", "a@x:h:1:1:/m", "a@x:h:1:1:/m:0:extra", "a@x::1:1:/m:0", "a@x:h:-1:1:/m:0",
		"a@x:h:1:1:m:0", "a@x:h:1:1:/m:", "a@x:h:1:1:/m:x", "a@x:h:4294967296:1:/m:0",
		"a@x:h:4294967295:1:/m:0", "a@x:h:1:1:/m:18446744073709551616", "ax:h:1:1:/m:0",
		"@x:h:1:1:/m:0", "a@x:h h:1:1:/m:0", "a@x:h:1 :1:/m:0", "a@x:h:1:1:/m/../n:0",
	};
	static const char *const badaliases[] = {
		"a@x", "a@x:", "a@x: ", "a@x: b@y,", "a@x: ,b@y", "a@x: b@y,,c@z", "a@x: b", "a@x: b@y c@z",
		"ax: b@y", "a@x: @y", "a@x: b@y:c", "a@x b@y",
	};
	size_t i;

	ok(conf_parse_user("# comment", 9, &u) == 0, "user comment line");
	ok(conf_parse_user("   ", 3, &u) == 0, "user blank line");
	ok(conf_parse_user("", 0, &u) == 0, "user empty line");
	ok(conf_parse_user(" A@X.Test:$y$abc:10:20:/m/d:5\r", 30, &u) == 1, "user line parsed");
	is_str(u.addr.s, "a@x.test", "user address lower-cased");
	is_str(u.hash.s, "$y$abc", "user hash");
	ok(u.uid == 10 && u.gid == 20 && u.quota == 5, "user uid gid quota");
	is_str(u.maildir.s, "/m/d", "user maildir");
	ok(conf_parse_user("a@x:h:1:1:/m:18446744073709551615", 33, &u) == 1 && u.quota == ~0ULL, "quota at 2^64-1");
	for (i = 0; i < sizeof badusers / sizeof badusers[0]; i++) {
		errno = 0;
		ok(conf_parse_user(badusers[i], strlen(badusers[i]), &u) < 0 && errno == EINVAL, badusers[i]);
	}
	ok(conf_parse_user("a@x:h:1:1:/m\0:0", 15, &u) < 0, "user line with NUL refused");

	ok(conf_parse_domain("# x", 3, &a) == 0, "domain comment");
	ok(conf_parse_domain(" Example.TEST ", 14, &a) == 1 && !strcmp(a.s, "example.test"), "domain trimmed, lower-cased");
	ok(conf_parse_domain("a b", 3, &a) < 0, "domain with a space refused");
	ok(conf_parse_domain("a@b", 3, &a) < 0, "domain with @ refused");

	ok(conf_parse_alias("#", 1, &a, &t) == 0, "alias comment");
	ok(conf_parse_alias("Post@X :  b@y ,C@Z ", 19, &a, &t) == 1, "alias parsed");
	is_str(a.s, "post@x", "alias key lower-cased");
	is_str(t.s, "b@y,C@Z", "targets trimmed and joined, case kept");
	ok(conf_parse_alias("@x: b@y", 7, &a, &t) == 1 && !strcmp(a.s, "@x"), "catch-all alias");
	for (i = 0; i < sizeof badaliases / sizeof badaliases[0]; i++) {
		errno = 0;
		ok(conf_parse_alias(badaliases[i], strlen(badaliases[i]), &a, &t) < 0 && errno == EINVAL, badaliases[i]);
	}

	{
		struct conf_user v = CONF_USER_INIT;
		struct str line = STR_INIT;
		ok(conf_parse_user("a@x:h:1:2:/m:3", 14, &u) == 1, "user for round trip");
		ok(conf_user_line(&u, &line) == 0 && !strcmp(line.s, "a@x:h:1:2:/m:3"), "conf_user_line");
		ok(conf_parse_user(line.s, line.len, &v) == 1 && str_eq(&v.hash, "h"), "round trip parses");
		conf_user_free(&v);
		str_free(&line);
	}
	conf_user_free(&u);
	str_free(&a);
	str_free(&t);
}

static const char USERS[] =
    "# users\n"
    "alice@example.test:$y$hash:1000:1001:/var/mail/alice:0\n"
    "Bob@Example.Test:*:1000:1001:/var/mail/bob:1048576\n"
    "b+c@example.test:*:1:1:/var/mail/bc:0\n"
    "x@remote.test:*:1:1:/var/mail/x:0\n";

static void
test_lookups(void)
{
	struct conf_user u = CONF_USER_INIT;
	struct str s = STR_INIT;
	unsigned long line;

	/* nothing compiled yet */
	errno = 0;
	ok(conf_domain_local("example.test") < 0 && errno == ENOENT, "missing domains.cdb: error");
	is_int(conf_user_get("a@example.test", &u), 0, "no users file and no cdb: empty");
	is_int(conf_alias_get("a@example.test", &s), 0, "no aliases file and no cdb: empty");
	put("users", "# none yet\n");
	ok(conf_user_get("a@example.test", &u) < 0, "users file without its cdb: error");
	put("aliases", "");
	ok(conf_alias_get("a@example.test", &s) < 0, "aliases file without its cdb: error");

	put("domains", "# local\nExample.TEST\n\nother.test\n");
	ok(conf_compile("domains", &line) == 0, "compile domains");
	put("users", USERS);
	ok(conf_compile("users", &line) == 0, "compile users");
	put("aliases",
	    "postmaster@example.test: alice@example.test\n"
	    "list@example.test: alice@example.test, bob@example.test, far@away.test\n"
	    "@other.test: alice@example.test\n");
	ok(conf_compile("aliases", &line) == 0, "compile aliases");
	is_int(mode_of("users.cdb"), 0640, "users.cdb is 0640");
	is_int(mode_of("domains.cdb"), 0644, "domains.cdb is 0644");
	is_int(mode_of("aliases.cdb"), 0644, "aliases.cdb is 0644");

	is_int(conf_domain_local("example.test"), 1, "local domain");
	is_int(conf_domain_local("EXAMPLE.Test"), 1, "local domain, any case");
	is_int(conf_domain_local("example.tes"), 0, "other domain not local");
	is_int(conf_domain_local(""), 0, "empty domain not local");

	is_int(conf_user_get("ALICE@example.test", &u), 1, "user found, any case");
	is_str(u.addr.s, "alice@example.test", "user address");
	is_str(u.hash.s, "$y$hash", "user hash");
	ok(u.uid == 1000 && u.gid == 1001 && u.quota == 0, "user ids");
	is_str(u.maildir.s, "/var/mail/alice", "user maildir");
	ok(conf_user_get("bob@example.test", &u) == 1 && u.quota == 1048576, "user quota");
	is_int(conf_user_get("carol@example.test", &u), 0, "unknown user");
	is_int(conf_user_get("alice+x@example.test", &u), 0, "conf_user_get is exact");

	ok(conf_alias_get("LIST@example.test", &s) == 1, "alias found");
	is_str(s.s, "alice@example.test,bob@example.test,far@away.test", "alias targets");
	is_int(conf_alias_get("nobody@example.test", &s), 0, "unknown alias");

	str_trunc(&s, 0);
	ok(conf_rcpt_local("Alice@Example.TEST", &s) == 1 && !strcmp(s.s, "alice@example.test"), "rcpt: user");
	ok(conf_rcpt_local("postmaster@example.test", &s) == 1 && !strcmp(s.s, "postmaster@example.test"), "rcpt: alias");
	ok(conf_rcpt_local("alice+news@example.test", &s) == 1 && !strcmp(s.s, "alice@example.test"), "rcpt: user+detail");
	ok(conf_rcpt_local("alice+a+b@example.test", &s) == 1 && !strcmp(s.s, "alice@example.test"), "rcpt: cut at the first +");
	ok(conf_rcpt_local("list+x@example.test", &s) == 1 && !strcmp(s.s, "list@example.test"), "rcpt: alias+detail");
	ok(conf_rcpt_local("b+c@example.test", &s) == 1 && !strcmp(s.s, "b+c@example.test"), "rcpt: a user with + itself");
	is_int(conf_rcpt_local("+x@example.test", &s), 0, "rcpt: empty base after +");
	is_int(conf_rcpt_local("carol@example.test", &s), 0, "rcpt: unknown");
	ok(conf_rcpt_local("anyone@other.test", &s) == 1 && !strcmp(s.s, "@other.test"), "rcpt: catch-all");
	ok(conf_rcpt_local("x@remote.test", &s) == 0, "rcpt: user in a non-local domain is not local");
	is_int(conf_rcpt_local("alice", &s), 0, "rcpt: no domain");
	is_int(conf_rcpt_local("@example.test", &s), 0, "rcpt: empty local part");
	is_int(conf_rcpt_local("alice@", &s), 0, "rcpt: empty domain");
	is_int(conf_rcpt_local("alice@example.test\r\n", &s), 0, "rcpt: CRLF is no match");
	ok(conf_rcpt_local("alice@example.test", NULL) == 1, "rcpt: canonical optional");

	/* tables stay mapped between lookups, yet a new file renamed into
	 * place is seen by the very next lookup */
	put("users",
	    "alice@example.test:$y$hash:1000:1001:/var/mail/alice:0\n"
	    "carol@example.test:*:1000:1001:/var/mail/carol:0\n");
	ok(conf_compile("users", &line) == 0, "recompile users with carol, without bob");
	is_int(conf_user_get("carol@example.test", &u), 1, "a user added since the last lookup is found");
	is_int(conf_user_get("bob@example.test", &u), 0, "a user removed since is gone");
	put("domains", "other.test\n");
	ok(conf_compile("domains", &line) == 0, "recompile domains without example.test");
	is_int(conf_domain_local("example.test"), 0, "a domain removed since the last lookup is not local");
	put("domains", "# local\nExample.TEST\n\nother.test\n");
	ok(conf_compile("domains", &line) == 0, "domains back");
	conf_close();
	is_int(conf_domain_local("example.test"), 1, "lookups after conf_close map the table again");
	put("users", USERS);
	ok(conf_compile("users", &line) == 0, "users back");

	/* a syntax error leaves the old database in place */
	put("users", "alice@example.test:h:1:1:/m:0\nok@example.test:h:1:1:/m:0\nbroken line\n");
	errno = 0;
	ok(conf_compile("users", &line) < 0 && errno == EINVAL, "syntax error refused");
	is_int(line, 3, "syntax error line number");
	ok(conf_user_get("bob@example.test", &u) == 1, "old users.cdb still serves");
	ok(access(dir, F_OK) == 0 && mode_of("users.cdb.tmp") == 0, "no temporary left behind");
	/* staged: built beside the database, in use only once installed */
	put("users", "staged@example.test:h:1:1:/m:0\n");
	ok(conf_stage("users", &line) == 0 && mode_of("users.cdb.tmp") != 0, "stage: the new database beside the old");
	ok(conf_user_get("bob@example.test", &u) == 1, "stage: the old one still serves");
	conf_unstage("users");
	ok(mode_of("users.cdb.tmp") == 0 && conf_user_get("bob@example.test", &u) == 1, "unstage: gone, the old one kept");
	ok(conf_stage("users", &line) == 0 && conf_install("users") == 0, "stage, then install");
	ok(conf_user_get("staged@example.test", &u) == 1 && conf_user_get("bob@example.test", &u) == 0 &&
	   mode_of("users.cdb.tmp") == 0, "install: the new one serves");
	ok(conf_install("users") < 0 && errno == ENOENT, "install with nothing staged: an error");
	put("users", "alice@example.test:h:1:1:/m:0\nbroken line\n");
	ok(conf_stage("users", &line) < 0 && errno == EINVAL && line == 2 && mode_of("users.cdb.tmp") == 0,
	   "stage: a syntax error leaves nothing staged");
	put("users", USERS);
	ok(conf_compile("users", &line) == 0, "users back again");
	put("users", "alice@example.test:h:1:1:/m:0\nALICE@example.test:h:2:2:/m:0\n");
	ok(conf_compile("users", &line) < 0 && errno == EINVAL && line == 2, "duplicate user refused");
	put("domains", "ok.test\nbad_domain\n");
	ok(conf_compile("domains", &line) < 0 && line == 2, "bad domain refused");
	put("aliases", "a@example.test: b@example.test\na@example.test: c@example.test\n");
	ok(conf_compile("aliases", &line) < 0 && line == 2, "duplicate alias refused");
	{
		char big[CONF_LINE_MAX + 100];
		memset(big, 'a', sizeof big - 2);
		big[sizeof big - 2] = '\n';
		big[sizeof big - 1] = 0;
		put("domains", big);
		ok(conf_compile("domains", &line) < 0 && errno == EINVAL && line == 1, "over-long line refused");
	}
	ok(conf_compile("nonsense", &line) < 0 && errno == EINVAL, "unknown table refused");

	/* a missing text file compiles to an empty table */
	rm("aliases");
	ok(conf_compile("aliases", &line) == 0, "missing aliases compiles");
	is_int(conf_alias_get("list@example.test", &s), 0, "empty aliases table");

	conf_user_free(&u);
	str_free(&s);
}

static void
test_corrupt(void)
{
	struct conf_user u = CONF_USER_INIT;
	struct str s = STR_INIT;
	struct cdb_make cm;
	char p[256], junk[4096];
	unsigned char hdr[2048];
	int fd, i;

	/* short file */
	put("domains.cdb", "short");
	errno = 0;
	ok(conf_domain_local("example.test") < 0, "short domains.cdb: error, not 'no'");
	ok(conf_rcpt_local("alice@example.test", &s) < 0, "rcpt with short domains.cdb: error");

	/* random bytes: slots point anywhere */
	for (i = 0; i < (int)sizeof junk; i++)
		junk[i] = (char)(i * 131 + 7);
	snprintf(p, sizeof p, "%s/users.cdb", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, junk, sizeof junk) == (ssize_t)sizeof junk, "write junk users.cdb");
	close(fd);
	ok(conf_user_get("alice@example.test", &u) < 0, "junk users.cdb: error");

	/* a header whose tables lie beyond the end of the file */
	for (i = 0; i < 256; i++) {
		cdb_pack(0x7ffffff0u, hdr + i * 8);
		cdb_pack(5, hdr + i * 8 + 4);
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, hdr, sizeof hdr) == (ssize_t)sizeof hdr && write(fd, junk, 64) == 64,
	    "write lying users.cdb");
	close(fd);
	ok(conf_user_get("alice@example.test", &u) < 0, "out-of-range table offsets: error");

	/* a well-formed cdb holding a value the compiler never writes */
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cdb_make_start(&cm, fd);
	cdb_make_add(&cm, "alice@example.test", 18, "garbage", 7);
	cdb_make_finish(&cm);
	close(fd);
	errno = 0;
	ok(conf_user_get("alice@example.test", &u) < 0 && errno == EPROTO, "bad users value: error EPROTO");

	/* unreadable: permission denied is an error too (not as root) */
	conf_user_free(&u);
	str_free(&s);
}

static void
test_lock(void)
{
	int a = conf_lock(1000), b;
	ok(a >= 0, "lock taken");
	errno = 0;
	b = conf_lock(50);
	ok(b < 0 && errno == ETIMEDOUT, "second lock times out");
	close(a);
	b = conf_lock(1000);
	ok(b >= 0, "lock free again after close");
	close(b);
}

int
main(void)
{
	if (!mkdtemp(dir))
		return 2;
	test_basics();
	test_valid();
	test_parsers();
	test_lookups();
	test_corrupt();
	test_lock();
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			ok(0, "cleanup");
	}
	return done();
}
