/* The client side of SMTP replies (RFC 5321 4.2): multi-line replies
 * assembled line by line, enhanced status codes (RFC 3463), and the EHLO
 * keyword list. Every line and the whole reply are bounded. */
#ifndef SMTPREPLY_H
#define SMTPREPLY_H

#include <stddef.h>
#include "str.h"

enum {
	SMTPREPLY_LINE_MAX = 2048,   /* one reply line, CRLF stripped (RFC: 512) */
	SMTPREPLY_TEXT_MAX = 4096,   /* text kept from a reply; the rest is dropped */
	SMTPREPLY_LINES_MAX = 200,   /* more continuation lines is a broken peer */
	SMTPREPLY_ENH_MAX = 16       /* "5.123.123" plus NUL fits */
};

struct smtpreply {
	int code;                    /* 200..599 once complete */
	int lines;
	char enh[SMTPREPLY_ENH_MAX]; /* from the first line, or "" */
	struct str text;             /* line texts (after code and enhanced code) joined by '\n' */
};

void smtpreply_init(struct smtpreply *);
void smtpreply_free(struct smtpreply *);
/* Feed one line without its CRLF. 1: the reply is complete; 0: more lines
 * follow; -1: malformed (bad code, code changed between lines, too many
 * lines) or out of memory. Start each reply with smtpreply_init or
 * smtpreply_reset. */
int smtpreply_line(struct smtpreply *, const char *line, size_t len);
void smtpreply_reset(struct smtpreply *);

/* The reply's enhanced code, or one derived from the reply code
 * (2xx -> 2.0.0, 4xx -> 4.0.0, 5xx -> 5.0.0, with a few well-known
 * mappings such as 550 -> 5.1.1 for RCPT). */
void smtpreply_enhanced(const struct smtpreply *, int rcpt, char out[SMTPREPLY_ENH_MAX]);

/* Is s (len bytes) an enhanced status code "C.S.D" with class c
 * ('2','4','5'), S and D 1-3 digits? */
int smtpreply_isenh(const char *s, size_t len, char c);

/* Append the reply as one printable line: code, text, with CR, LF and
 * control bytes turned into spaces. */
int smtpreply_print(const struct smtpreply *, struct str *out);

/* EHLO extensions (RFC 5321 4.1.1.1 and the extension RFCs). */
enum {
	EXT_PIPELINING = 1 << 0,
	EXT_SIZE = 1 << 1,
	EXT_8BITMIME = 1 << 2,
	EXT_SMTPUTF8 = 1 << 3,
	EXT_STARTTLS = 1 << 4,
	EXT_DSN = 1 << 5,
	EXT_AUTH_PLAIN = 1 << 6,
	EXT_AUTH_LOGIN = 1 << 7,
	EXT_ENHANCED = 1 << 8,
	EXT_CHUNKING = 1 << 9
};
struct smtpext {
	unsigned flags;
	unsigned long long size;     /* SIZE limit; 0 when none given */
};
/* Parse a complete 250 EHLO reply (the first line is the greeting). */
void smtpreply_ehlo(const struct smtpreply *, struct smtpext *);

#endif
