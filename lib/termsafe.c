/* Bytes a terminal may be sent as they are (termsafe.h). */
#include "smtpaddr.h"
#include "termsafe.h"

size_t
termsafe_char(const unsigned char *p, size_t n)
{
	size_t k;
	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return p[0] >= ' ' && p[0] < 0x7f;
	if (p[0] < 0xc2)
		return 0;
	k = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (k > n || !smtpaddr_utf8_ok((const char *)p, k))
		return 0;
	if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;   /* U+0080..U+009F */
	if (k == 3 && p[0] == 0xe2 && ((p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae))) ||
	    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
		return 0;   /* U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 */
	return k;
}
