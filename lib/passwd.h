/* Password hashes with crypt(3) from libcrypt: new hashes are yescrypt
 * (SHA-512-crypt where yescrypt is unavailable); verification accepts any
 * "$id$" scheme crypt(3) knows (yescrypt, SHA-512-crypt, bcrypt, and the
 * weak MD5-crypt, SHA-256-crypt, NT), never DES and its kin (no "$id$":
 * they read only part of the password), and compares in constant time. */
#ifndef PASSWD_H
#define PASSWD_H

#include <stddef.h>
#include "str.h"

/* longest password in bytes: libcrypt refuses CRYPT_MAX_PASSPHRASE_SIZE (512) and more */
enum { PASSWD_MAX = 511 };

int passwd_hash(const char *password, struct str *out);          /* 0 ok, -1 errno */
/* 1 match, 0 no match (also for a malformed or locked hash), -1 error */
int passwd_verify(const char *password, const char *hash);
/* 1 when hash is empty, locked ('*' or '!' first) or of the DES family
 * (no "$id$" prefix): nothing can match it */
int passwd_locked(const char *hash);
/* 1 when hash can match but its scheme is one libcrypt counts legacy
 * (MD5-crypt, SHA-256-crypt, NT, ...): worth a new password */
int passwd_weak(const char *hash);

#endif
