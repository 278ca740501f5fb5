/* Unit tests for passwd: hashing, verification, locked and malformed hashes. */
#include <errno.h>
#include <string.h>
#include "passwd.h"
#include "tap.h"

int
main(void)
{
	struct str h = STR_INIT, h2 = STR_INIT;
	char big[PASSWD_MAX + 2];
	/* the SHA-crypt specification's test vector */
	const char *sha = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

	ok(passwd_hash("correct horse", &h) == 0, "hash");
	ok(h.len > 20 && h.s[0] == '$', "hash has a crypt prefix");
	ok(!strncmp(h.s, "$y$", 3) || !strncmp(h.s, "$6$", 3), "yescrypt or sha512crypt");
	ok(!strchr(h.s, ':') && !strchr(h.s, ' ') && !strchr(h.s, '\n'), "hash fits the users file");
	is_int(passwd_verify("correct horse", h.s), 1, "right password matches");
	is_int(passwd_verify("correct horsE", h.s), 0, "wrong password fails");
	is_int(passwd_verify("", h.s), 0, "empty password fails");
	is_int(passwd_verify("correct horse ", h.s), 0, "trailing space fails");
	ok(passwd_hash("correct horse", &h2) == 0 && strcmp(h.s, h2.s) != 0, "salts differ");

	is_int(passwd_verify("Hello world!", sha), 1, "SHA-512-crypt vector verifies");
	is_int(passwd_verify("Hello world?", sha), 0, "SHA-512-crypt wrong password");

	is_int(passwd_locked("*"), 1, "'*' is locked");
	is_int(passwd_locked("!$y$j9T$abc"), 1, "'!' is locked");
	is_int(passwd_locked(""), 1, "an empty hash is locked");
	is_int(passwd_locked("$y$j9T$abc"), 0, "a hash is not locked");
	is_int(passwd_locked(sha), 0, "SHA-512-crypt is current");
	/* crypt(3) of "password": DES and its kin never match, the weak
	 * "$id$" schemes match the whole password only */
	is_int(passwd_locked("abJnggxhB/yWI"), 1, "DES is as good as locked");
	is_int(passwd_verify("password", "abJnggxhB/yWI"), 0, "DES never matches");
	is_int(passwd_verify("passwordXYZ", "abJnggxhB/yWI"), 0, "nor with a longer password");
	is_int(passwd_locked("_J9..saltJW8FtKdEkNM"), 1, "BSDi's extended DES too");
	is_int(passwd_verify("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"), 1, "MD5-crypt matches");
	is_int(passwd_verify("passwordXYZ", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"), 0, "the whole password");
	is_int(passwd_weak("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"), 1, "MD5-crypt is weak");
	is_int(passwd_weak("$3$$8846f7eaee8fb117ad06bdd830b7586c"), 1, "NT is weak");
	is_int(passwd_weak(sha), 0, "SHA-512-crypt is not weak");
	is_int(passwd_weak("abJnggxhB/yWI"), 0, "DES: locked, not merely weak");
	is_int(passwd_weak("*"), 0, "'*': locked, not weak");
	is_int(passwd_verify("x", "*"), 0, "'*' never matches");
	is_int(passwd_verify("", "*"), 0, "'*' never matches the empty password");
	is_int(passwd_verify("", ""), 0, "empty hash never matches");
	is_int(passwd_verify("", "!"), 0, "'!' never matches");
	{
		char locked[512];
		snprintf(locked, sizeof locked, "!%s", h.s);
		is_int(passwd_verify("correct horse", locked), 0, "'!'-locked hash never matches");
	}
	is_int(passwd_verify("x", "$y$"), 0, "truncated yescrypt setting");
	is_int(passwd_verify("x", "$6$"), 0, "truncated sha512 setting");
	is_int(passwd_verify("x", "$99$abc$def"), 0, "unknown method");
	is_int(passwd_verify("x", "garbage hash"), 0, "garbage");
	{
		/* a prefix of the real hash must not match */
		char cut[512];
		snprintf(cut, sizeof cut, "%.*s", (int)h.len - 1, h.s);
		is_int(passwd_verify("correct horse", cut), 0, "truncated hash");
	}

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	errno = 0;
	ok(passwd_hash(big, &h2) < 0 && errno == EINVAL, "over-long password refused");
	is_int(passwd_verify(big, h.s), 0, "over-long password never matches");
	big[PASSWD_MAX] = 0;
	ok(passwd_hash(big, &h2) == 0 && passwd_verify(big, h2.s) == 1, "PASSWD_MAX bytes allowed");
	ok(passwd_hash("p\xc3\xa4ss\x01", &h2) == 0 && passwd_verify("p\xc3\xa4ss\x01", h2.s) == 1, "any bytes but NUL");
	str_free(&h);
	str_free(&h2);
	return done();
}
