/* POP3 command lines: keyword and up to two arguments. */
#ifndef POPCMD_H
#define POPCMD_H

#include <stddef.h>

enum popcmd_verb {
	POP_BAD = 0,   /* unknown keyword or malformed line */
	POP_USER, POP_PASS, POP_APOP, POP_AUTH, POP_STLS, POP_CAPA,
	POP_STAT, POP_LIST, POP_RETR, POP_DELE, POP_NOOP, POP_RSET,
	POP_QUIT, POP_UIDL, POP_TOP
};

enum { POPCMD_LINE_MAX = 4096 };   /* RFC 2449 allows 255 per command; AUTH responses are longer */

struct popcmd {
	enum popcmd_verb verb;
	const char *arg[2];   /* point into the line; NULL when absent */
	size_t arglen[2];
	int nargs;
	const char *why;      /* for POP_BAD: reply text */
};

/* Parse one line (CRLF already checked and stripped; len bytes, NUL may
 * appear and is refused). PASS keeps the rest of the line, spaces
 * included, as its one argument. */
void popcmd_parse(const char *line, size_t len, struct popcmd *out);

/* A message number: decimal, 1..max. 0 ok, -1 not a valid number. */
int popcmd_msgno(const char *s, size_t len, unsigned long max, unsigned long *out);
/* A line count for TOP: decimal, saturating at max. 0 ok, -1 not digits. */
int popcmd_count(const char *s, size_t len, unsigned long long max, unsigned long long *out);

#endif
