/* SASL PLAIN (RFC 4616) and LOGIN decoding for the servers; they own
 * the dialogue. */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>
#include "str.h"

enum { SASL_FIELD_MAX = 512 };

/* Decode a base64 PLAIN response: authzid \0 authcid \0 password.
 * 0 ok; -1 malformed (bad base64, wrong number of NULs, empty authcid or
 * password, a field over SASL_FIELD_MAX, NUL/CR/LF inside a field);
 * an authzid different from authcid is reported as -2 (refused), with
 * the authcid in user for the logs and pass left alone. */
int sasl_plain_decode(const char *b64, size_t len, struct str *user, struct str *pass);

/* One LOGIN response (the user name or the password): strict base64 of
 * 1 to SASL_FIELD_MAX bytes without NUL, CR or LF, decoded into out
 * (NUL-terminated). 0 ok, -1 malformed or out of memory. */
int sasl_login_field(const char *b64, size_t len, struct str *out);

#endif
