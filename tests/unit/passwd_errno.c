/* Unit test for passwd_hash's errno when libcrypt fails without setting
 * it: ENOSYS, not whatever errno held before the call. crypt_gensalt_rn
 * is replaced here (the program's definition comes before libcrypt's). */
#include <crypt.h>
#include <errno.h>
#include "passwd.h"
#include "tap.h"

char *
crypt_gensalt_rn(const char *prefix, unsigned long count, const char *rbytes, int nrbytes, char *output,
    int output_size)
{
	(void)prefix, (void)count, (void)rbytes, (void)nrbytes, (void)output, (void)output_size;
	return NULL;   /* no method, errno untouched */
}

int
main(void)
{
	struct str h = STR_INIT;
	errno = ENOENT;   /* stale, from some earlier call */
	ok(passwd_hash("correct horse", &h) < 0, "no hash method: refused");
	is_int(errno, ENOSYS, "errno ENOSYS, not a stale one");
	str_free(&h);
	return done();
}
