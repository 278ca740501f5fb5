/* Addresses out of RFC 5322 address-list header fields (To, Cc, Bcc):
 * display names, quoted strings, nested comments, angle addresses,
 * groups, obsolete source routes; an RFC 2047 encoded word outside <...>
 * is one piece of display name (or of a comment), whatever its text
 * holds; so is a domain
 * literal ("[IPv6:...]") one piece of address. Bounded: comment nesting, address
 * length and the number of addresses are capped. A quoted local part
 * that needs no quotes loses them ("john"@x is john@x); others are kept
 * as written. Lenient like sendmail:
 * an entry that yields no usable address is skipped, not fatal. */
#ifndef ADDRLIST_H
#define ADDRLIST_H

#include <stddef.h>
#include "str.h"

enum {
	ADDRLIST_ADDR_MAX = 320,    /* longer addresses are skipped */
	ADDRLIST_DEPTH_MAX = 32,    /* deeper comments end the field */
	ADDRLIST_COUNT_MAX = 10000
};

/* Parse one field value (folding CR/LF allowed); append each addr-spec,
 * NUL-terminated, to out and add their number to *count. 0 ok, -1 ENOMEM
 * or more than ADDRLIST_COUNT_MAX addresses (E2BIG). */
int addrlist_parse(const char *s, size_t len, struct str *out, size_t *count);

/* A quoted local part that needs no quotes ("john.smith"@x) loses them
 * (RFC 5321 4.1.2), as smtp-recv stores the address; others are left. */
void addrlist_unquote(struct str *a);

#endif
