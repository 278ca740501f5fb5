/* A growable byte string. s may hold NULs; len counts bytes in use.
 * Growth is overflow-checked. Every function returns 0 on success and
 * -1 with errno set (ENOMEM, EOVERFLOW) on failure, leaving the string
 * as it was. */
#ifndef STR_H
#define STR_H

#include <stddef.h>

struct str {
	char *s;
	size_t len;
	size_t cap;
};

#define STR_INIT { NULL, 0, 0 }

int str_ready(struct str *, size_t n);          /* room for n bytes plus a NUL */
int str_readyplus(struct str *, size_t n);      /* room for len + n bytes plus a NUL */
int str_copyb(struct str *, const char *, size_t);
int str_copys(struct str *, const char *);
int str_catb(struct str *, const char *, size_t);
int str_cats(struct str *, const char *);
int str_catc(struct str *, char);
int str_catu(struct str *, unsigned long long);
int str_0(struct str *);                         /* NUL-terminate; len unchanged */
void str_trunc(struct str *, size_t len);
void str_free(struct str *);
int str_eq(const struct str *, const char *);    /* 1 if equal to the C string */
void str_lower(struct str *);                    /* ASCII only */
int str_8bit(const char *, size_t);              /* 1 if a byte is >= 0x80 */

#endif
