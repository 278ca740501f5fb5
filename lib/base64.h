/* Base64 (RFC 4648). Strict decoding for protocol data (SASL): padding
 * required, no whitespace, no stray characters. Lenient decoding for
 * MIME bodies skips whitespace and junk as RFC 2045 asks, and decodes on
 * after padding (joined blocks, "aGk=aGk="). */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>
#include "str.h"

int base64_encode(struct str *out, const char *in, size_t len);          /* appends; 0 / -1 */
int base64_decode(struct str *out, const char *in, size_t len);          /* appends; 0 ok, -1 malformed (EINVAL) or ENOMEM */
int base64_decode_lenient(struct str *out, const char *in, size_t len);  /* appends; 0 / -1 ENOMEM */

#endif
