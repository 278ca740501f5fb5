/* Password hashes through libcrypt: yescrypt for new hashes (SHA-512-crypt
 * where the library lacks it); checking accepts any "$id$" scheme crypt(3)
 * knows, never DES and its kin, which read only part of a password. */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "passwd.h"

static int
usable(const char *s)
{
	/* crypt_rn reports failure as NULL or a string starting with '*' */
	return s && s[0] && s[0] != '*';
}

int
passwd_hash(const char *password, struct str *out)
{
	static const char *const prefixes[] = { "$y$", "$6$" };
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h = NULL;
	size_t i;

	if (strlen(password) > PASSWD_MAX) {
		errno = EINVAL;
		return -1;
	}
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return -1;
	/* crypt(3): errno says why only if cleared before; a library
	 * failing without setting it must not pass on a stale one */
	errno = 0;
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0] && !usable(h); i++) {
		/* NULL random bytes: libcrypt reads the kernel's CSPRNG itself */
		if (!usable(crypt_gensalt_rn(prefixes[i], 0, NULL, 0, setting, sizeof setting)))
			continue;
		h = crypt_rn(password, setting, cd, sizeof *cd);
	}
	if (!usable(h)) {
		explicit_bzero(cd, sizeof *cd);
		free(cd);
		if (!errno)
			errno = ENOSYS;
		return -1;
	}
	if (str_copys(out, h) < 0) {
		explicit_bzero(cd, sizeof *cd);
		free(cd);
		return -1;
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return 0;
}

int
passwd_locked(const char *hash)
{
	/* '*' and '!' mark locked or disabled accounts */
	if (!hash[0] || hash[0] == '*' || hash[0] == '!')
		return 1;
	/* DES and its kin, the schemes without a "$id$" prefix, in a
	 * hand-edited users file: traditional DES reads only 8 bytes of the
	 * password, so a longer wrong one would match ("right password
	 * only"); BSDi's folds longer ones into 8 */
	return hash[0] != '$';
}

int
passwd_weak(const char *hash)
{
	/* checks the whole password, but libcrypt counts the scheme legacy
	 * (MD5-crypt, SHA-256-crypt, NT...): cheap to crack if stolen */
	return !passwd_locked(hash) && crypt_checksalt(hash) == CRYPT_SALT_METHOD_LEGACY;
}

int
passwd_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	size_t n, i;
	unsigned char diff = 0;
	int r = 0;

	if (passwd_locked(hash))
		return 0;
	if (strlen(password) > PASSWD_MAX)
		return 0;
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return -1;
	h = crypt_rn(password, hash, cd, sizeof *cd);
	if (usable(h)) {
		n = strlen(hash);
		/* lengths are not secret (the hash's shape fixes them); bytes are */
		if (strlen(h) == n) {
			for (i = 0; i < n; i++)
				diff |= (unsigned char)(h[i] ^ hash[i]);
			r = diff == 0;
		}
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return r;
}
