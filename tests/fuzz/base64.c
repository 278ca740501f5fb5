/* Fuzz the base64 decoders and SASL PLAIN: no crash, strict output
 * re-encodes to the input, lenient never fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str d = STR_INIT, e = STR_INIT, l = STR_INIT, u = STR_INIT, p = STR_INIT;
	const char *in = (const char *)data;
	int strict = base64_decode(&d, in, size) == 0;
	if (strict) {
		if (base64_encode(&e, d.s, d.len) < 0 || e.len != size || memcmp(e.s, in, size) != 0)
			abort();   /* strict decoding accepts one encoding per value */
	}
	if (base64_decode_lenient(&l, in, size) < 0 || l.len > size / 4 * 3 + 3)
		abort();   /* within the room it reserved, padding anywhere */
	if (strict && (l.len != d.len || (d.len && memcmp(l.s, d.s, d.len))))
		abort();   /* what strict decoding accepts, lenient reads the same */
	if (sasl_plain_decode(in, size, &u, &p) == 0) {
		if (!u.len || !p.len || u.len > SASL_FIELD_MAX || p.len > SASL_FIELD_MAX)
			abort();
		if (memchr(u.s, 0, u.len) || memchr(p.s, 0, p.len))
			abort();
	}
	str_free(&d);
	str_free(&e);
	str_free(&l);
	str_free(&u);
	str_free(&p);
	return 0;
}
