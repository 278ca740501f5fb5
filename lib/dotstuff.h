/* SMTP DATA encoding for a client (RFC 5321 4.5.2, THREATS.md I5):
 * whatever line endings the stored message uses, the wire gets CRLF only.
 * LF and CRLF end a line; a lone CR is taken as a line end too, so no
 * bare CR or LF ever reaches the peer. A leading '.' is doubled. Lines
 * longer than DOTSTUFF_LINE_MAX are broken with CRLF SP (as Postfix does),
 * so no wire line exceeds RFC 5321's 1000 bytes. */
#ifndef DOTSTUFF_H
#define DOTSTUFF_H

#include <stddef.h>
#include "str.h"

enum { DOTSTUFF_LINE_MAX = 998 };

struct dotstuff {
	int bol;      /* at the beginning of a line */
	int cr;       /* a CR is pending */
	size_t col;   /* bytes on the current wire line */
	int eightbit; /* a byte >= 0x80 was seen */
	unsigned long long stuffed;   /* dots doubled so far */
};

void dotstuff_init(struct dotstuff *);
/* Append the encoding of in to out. 0 ok, -1 ENOMEM. */
int dotstuff_put(struct dotstuff *, const char *in, size_t len, struct str *out);
/* End the message: close an unterminated last line, then ".\r\n". */
int dotstuff_end(struct dotstuff *, struct str *out);

#endif
