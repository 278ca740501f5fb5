/* Unit tests for SASL PLAIN decoding and the login helpers that need no
 * users database (delay, privilege drop). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base64.h"
#include "conf.h"
#include "login.h"
#include "passwd.h"
#include "sasl.h"
#include "tap.h"

static int
plain(const char *raw, size_t len, struct str *u, struct str *p)
{
	struct str b = STR_INIT;
	int r;
	base64_encode(&b, raw, len);
	r = sasl_plain_decode(b.s, b.len, u, p);
	str_free(&b);
	return r;
}

#define PLAIN(lit, u, p) plain(lit, sizeof lit - 1, u, p)

static void
test_plain(void)
{
	struct str u = STR_INIT, p = STR_INIT, big = STR_INIT;
	size_t i;
	ok(PLAIN("\0u@x.test\0secret", &u, &p) == 0, "empty authzid accepted");
	is_str(u.s, "u@x.test", "user");
	is_str(p.s, "secret", "password");
	ok(PLAIN("u@x.test\0u@x.test\0pw", &u, &p) == 0, "authzid equal to authcid accepted");
	ok(PLAIN("U@X.test\0u@x.test\0pw", &u, &p) == 0, "authzid equal ignoring case");
	str_trunc(&p, 0);
	is_int(PLAIN("admin@x.test\0u@x.test\0pw", &u, &p), -2, "foreign authzid refused (-2)");
	is_str(u.s, "u@x.test", "refused: the authcid for the logs");
	is_int((int)p.len, 0, "refused: no password handed out");
	is_int(PLAIN("\0\0pw", &u, &p), -1, "empty authcid");
	is_int(PLAIN("\0u\0", &u, &p), -1, "empty password");
	is_int(PLAIN("\0\0", &u, &p), -1, "all empty");
	is_int(PLAIN("u\0pw", &u, &p), -1, "one NUL");
	is_int(PLAIN("upw", &u, &p), -1, "no NUL");
	is_int(PLAIN("\0u\0p\0w", &u, &p), -1, "three NULs (a\\0b trick)");
	is_int(PLAIN("\0u\r\n\0pw", &u, &p), -1, "CRLF in authcid");
	is_int(PLAIN("\0u\0p\nw", &u, &p), -1, "LF in password");
	is_int(sasl_plain_decode("", 0, &u, &p), -1, "empty response");
	is_int(sasl_plain_decode("=", 1, &u, &p), -1, "'=' response");
	is_int(sasl_plain_decode("AHUAcA=", 7, &u, &p), -1, "bad base64 (short padding)");
	is_int(sasl_plain_decode("AHUAc*==", 8, &u, &p), -1, "bad base64 (stray byte)");
	is_int(sasl_plain_decode("AHUA cA==", 9, &u, &p), -1, "bad base64 (space)");
	ok(sasl_plain_decode("AHUAcA==", 8, &u, &p) == 0 && str_eq(&u, "u") && str_eq(&p, "p"), "literal base64 \\0u\\0p");

	/* fields at and over SASL_FIELD_MAX */
	str_catb(&big, "", 1);
	for (i = 0; i < SASL_FIELD_MAX; i++)
		str_catc(&big, 'u');
	str_catb(&big, "", 1);
	for (i = 0; i < SASL_FIELD_MAX; i++)
		str_catc(&big, 'p');
	ok(plain(big.s, big.len, &u, &p) == 0 && u.len == SASL_FIELD_MAX && p.len == SASL_FIELD_MAX, "fields of exactly SASL_FIELD_MAX accepted");
	str_catc(&big, 'p');
	is_int(plain(big.s, big.len, &u, &p), -1, "password over SASL_FIELD_MAX");
	str_trunc(&big, 0);
	str_catb(&big, "", 1);
	for (i = 0; i <= SASL_FIELD_MAX; i++)
		str_catc(&big, 'u');
	str_catb(&big, "\0pw", 3);
	is_int(plain(big.s, big.len, &u, &p), -1, "authcid over SASL_FIELD_MAX");
	str_trunc(&big, 0);
	for (i = 0; i < 100000; i++)
		str_catc(&big, 'A');
	is_int(sasl_plain_decode(big.s, big.len, &u, &p), -1, "100 kB of base64 refused");
	str_free(&big);
	str_free(&u);
	str_free(&p);
}

static void
test_login_field(void)
{
	struct str f = STR_INIT;
	ok(sasl_login_field("dUB4LnRlc3Q=", 12, &f) == 0 && str_eq(&f, "u@x.test") && f.s[f.len] == 0,
	    "LOGIN field decoded, NUL-terminated");
	is_int(sasl_login_field("", 0, &f), -1, "LOGIN: empty field");
	is_int(sasl_login_field("=", 1, &f), -1, "LOGIN: '='");
	is_int(sasl_login_field("dQB4", 4, &f), -1, "LOGIN: NUL inside");
	is_int(sasl_login_field("dQ14", 4, &f), -1, "LOGIN: CR inside");
	is_int(sasl_login_field("dQp4", 4, &f), -1, "LOGIN: LF inside");
	is_int(sasl_login_field("dQ*4", 4, &f), -1, "LOGIN: bad base64");
	str_free(&f);
}

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_delay(void)
{
	long long t;
	setenv("PIPEMAIL_LOGIN_DELAY_MS", "10", 1);
	t = now_ms();
	login_fail_delay(1);
	ok(now_ms() - t >= 10, "first failure delays the base");
	t = now_ms();
	login_fail_delay(3);
	ok(now_ms() - t >= 40, "third failure delays 4x");
	t = now_ms();
	login_fail_delay(1000);
	ok(now_ms() - t >= 80 && now_ms() - t < 2000, "delay is capped (8x base)");
	setenv("PIPEMAIL_LOGIN_DELAY_MS", "0", 1);
	t = now_ms();
	login_fail_delay(5);
	ok(now_ms() - t < 1000, "zero base: no delay");
}

static void
test_drop(void)
{
	pid_t pid;
	int st;
	ok(login_drop(0, 0) < 0, "dropping to root refused");
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0) {
			if (login_drop(65534, 65534) < 0)
				_exit(1);
			if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534 || getegid() != 65534)
				_exit(2);
			if (setuid(0) == 0)
				_exit(3);
			_exit(0);
		}
		if (login_drop(getuid() + 1, getgid()) == 0)
			_exit(4);
		if (login_drop(getuid(), getgid()) < 0 && getuid() != 0 && getgid() != 0)
			_exit(5);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "login_drop becomes the user for good (or refuses when not root)");
}

static void
test_check(void)
{
	char dir[] = "/tmp/sasl-unit.XXXXXX";
	struct str hash = STR_INIT, line = STR_INIT, path = STR_INIT;
	struct conf_user u;
	long long t0, tk, tu;
	int fd;
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("PIPEMAIL_CONF", dir, 1);
	ok(passwd_hash("right pw", &hash) == 0, "hash a password");
	str_copys(&line, "u@example.test:");
	str_catb(&line, hash.s, hash.len);
	str_cats(&line, ":65534:65534:/nonexistent/Maildir:0\n");
	conf_path(&path, "users");
	fd = open(path.s, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, line.s, line.len) == (ssize_t)line.len && close(fd) == 0, "write users");
	ok(conf_compile("users", NULL) == 0, "compile users.cdb");
	is_int(login_check("u@example.test", "right pw", &u), LOGIN_OK, "right password");
	ok(u.uid == 65534 && u.gid == 65534 && str_eq(&u.maildir, "/nonexistent/Maildir"), "user record filled");
	conf_user_free(&u);
	is_int(login_check("U@Example.TEST", "right pw", &u), LOGIN_OK, "address compared in lower case");
	conf_user_free(&u);
	t0 = now_ms();
	is_int(login_check("u@example.test", "wrong", &u), LOGIN_BAD, "wrong password");
	tk = now_ms() - t0;
	t0 = now_ms();
	is_int(login_check("nobody@example.test", "right pw", &u), LOGIN_BAD, "unknown user: same answer");
	tu = now_ms() - t0;
	printf("# wrong password %lld ms, unknown user %lld ms\n", tk, tu);
	is_int(login_check("u@example.test", "", &u), LOGIN_BAD, "empty password");
	is_int(login_check("", "right pw", &u), LOGIN_BAD, "empty user");
	is_int(login_check("u@example.test\r\n", "right pw", &u), LOGIN_BAD, "CRLF in user");
	conf_path(&path, "users.cdb");
	fd = open(path.s, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, "garbage", 7) == 7 && close(fd) == 0, "corrupt users.cdb");
	is_int(login_check("u@example.test", "right pw", &u), LOGIN_TEMP, "corrupt database: temporary, not bad");
	unlink(path.s);
	is_int(login_check("u@example.test", "right pw", &u), LOGIN_TEMP, "missing database: temporary");
	conf_path(&path, "users");
	unlink(path.s);
	rmdir(dir);
	str_free(&hash);
	str_free(&line);
	str_free(&path);
}

int
main(void)
{
	test_plain();
	test_login_field();
	test_delay();
	test_drop();
	test_check();
	return done();
}
