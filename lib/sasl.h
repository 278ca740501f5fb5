/* SASL mechanisms the servers offer: PLAIN (RFC 4616) and LOGIN.
 * Decoding only; the servers own the dialogue. */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>
#include "str.h"

enum { SASL_FIELD_MAX = 512 };

/* Decode a base64 PLAIN response: authzid \0 authcid \0 password.
 * 0 ok; -1 malformed (bad base64, wrong number of NULs, empty authcid or
 * password, a field over SASL_FIELD_MAX, NUL/CR/LF inside a field);
 * an authzid different from authcid is reported as -2 (refused). */
int sasl_plain_decode(const char *b64, size_t len, struct str *user, struct str *pass);

#endif
