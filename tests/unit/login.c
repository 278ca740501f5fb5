/* Unit tests for login_check's decoy: an unknown or locked user's password
 * goes through crypt(3) with the scheme and cost of the stored hashes, not
 * a fixed yescrypt dummy. crypt_rn is interposed to see which setting each
 * verification used: no timing. */
#include <crypt.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "login.h"
#include "passwd.h"
#include "tap.h"

/* the SHA-crypt specification's vector ("Hello world!", 5000 rounds) */
#define SHA "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define YES "$y$j9T$rhGk3su8AltBbRBj9s5e70$oG/XXC4KAz1suZeCYUO.t3Xt3XRd/Mhl2n6Oz/gh853"

static char dir[] = "/tmp/login-unit.XXXXXX";
static char seen[64];   /* the start of the last setting crypt_rn got */
static int calls;

char *
crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	static char *(*real)(const char *, const char *, void *, int);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "crypt_rn");
	if (!real)
		abort();
	calls++;
	snprintf(seen, sizeof seen, "%.3s", setting);
	return real(phrase, setting, data, size);
}

static void
users(const char *text)
{
	struct str p = STR_INIT;
	int fd;
	conf_path(&p, "users");
	fd = open(p.s, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		exit(2);
	str_free(&p);
	ok(conf_compile("users", NULL) == 0, "compile users.cdb");
}

/* login_check's answer and the scheme its crypt(3) call used */
static void
check(const char *user, const char *pw, int want, const char *scheme, const char *name)
{
	struct conf_user u;
	int r;
	calls = 0;
	seen[0] = 0;
	r = login_check(user, pw, &u);
	is_int(r, want, name);
	if (r == LOGIN_OK)
		conf_user_free(&u);
	is_int(calls, 1, "one crypt(3) call");
	is_str(seen, scheme, "scheme of the hash verified against");
}

int
main(void)
{
	struct str h = STR_INIT;
	if (!mkdtemp(dir))
		return 2;
	setenv("PIPEMAIL_CONF", dir, 1);

	users("u@example.test:" SHA ":65534:65534:/nonexistent/Maildir:0\n");
	check("u@example.test", "Hello world!", LOGIN_OK, "$6$", "SHA-512 user, right password");
	check("u@example.test", "wrong", LOGIN_BAD, "$6$", "SHA-512 user, wrong password");
	check("nobody@example.test", "wrong", LOGIN_BAD, "$6$", "unknown user: SHA-512 work as well");
	check("nobody@example.test", "Hello world!", LOGIN_BAD, "$6$",
	    "unknown user with the stored user's password: refused");

	users("l@example.test:*:65534:65534:/nonexistent/l:0\n"
	    "k@example.test:!" YES ":65534:65534:/nonexistent/k:0\n"
	    "u@example.test:" SHA ":65534:65534:/nonexistent/Maildir:0\n");
	check("nobody@example.test", "x", LOGIN_BAD, "$6$", "locked hashes skipped for the decoy");
	check("l@example.test", "x", LOGIN_BAD, "$6$", "'*' user: the decoy's work");
	check("k@example.test", "x", LOGIN_BAD, "$6$", "'!' user: the decoy's work");
	is_int(conf_user_decoy(&h, passwd_locked), 1, "conf_user_decoy finds a hash");
	is_str(h.s, SHA, "the first usable one, whole");

	/* DES of "password": the DES family is as good as locked */
	users("d@example.test:abJnggxhB/yWI:65534:65534:/nonexistent/d:0\n"
	    "u@example.test:" SHA ":65534:65534:/nonexistent/Maildir:0\n");
	check("d@example.test", "password", LOGIN_BAD, "$6$", "DES user, right password: refused, the decoy's work");
	users("d@example.test:abJnggxhB/yWI:65534:65534:/nonexistent/d:0\n");
	check("nobody@example.test", "x", LOGIN_BAD, "$y$", "a DES decoy hash: the built-in dummy instead");

	users("l@example.test:*:65534:65534:/nonexistent/l:0\n");
	check("nobody@example.test", "x", LOGIN_BAD, "$y$", "no usable hash: the built-in dummy");
	is_int(conf_user_decoy(&h, passwd_locked), 0, "conf_user_decoy: none");

	users("");
	check("nobody@example.test", "x", LOGIN_BAD, "$y$", "empty database: the built-in dummy");

	{
		struct str p = STR_INIT;
		conf_path(&p, "users");
		unlink(p.s);
		conf_path(&p, "users.cdb");
		unlink(p.s);
		str_free(&p);
	}
	rmdir(dir);
	str_free(&h);
	return done();
}
