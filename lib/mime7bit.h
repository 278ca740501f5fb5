/* A message made 7-bit for a peer without 8BITMIME (RFC 6152 3, RFC 1652
 * 3: "convert the message to 7-bit or return it as undeliverable"), as
 * Postfix does by default: a leaf body with 8-bit bytes and transfer
 * encoding absent, 7bit or 8bit is re-encoded quoted-printable, one sent
 * "binary" base64; multipart and message/rfc822 entities are entered,
 * never encoded, and their own 8bit/binary label becomes 7bit;
 * message/global and the other global-* types of RFC 6533 (which may
 * be encoded, RFC 6532 3.7) are leaves, encoded whole. Header
 * fields go as they are (8-bit bytes in them too, as Postfix sends
 * them). Every other byte is copied unchanged. Lines end at LF and at
 * a CR no LF follows, as dotstuff.h puts them on the wire: the entity
 * tree read is the one the peer reads.
 *
 * Two passes over the same bytes: the first (mime7bit_init with plan
 * NULL) learns which leaf bodies hold 8-bit bytes, and whether any
 * 8-bit byte lies where no encoding may go (a preamble, an epilogue, a
 * message/partial, a part already base64 or quoted-printable, past the
 * nesting or entity limits); the second (plan: the first's state)
 * writes the conversion. Both stream in constant memory: one header
 * section (MIME7BIT_HEADER_MAX) and one line's start are held. */
#ifndef MIME7BIT_H
#define MIME7BIT_H

#include <stddef.h>
#include "mime.h"
#include "str.h"

enum {
	MIME7BIT_LINE_MAX = 1024,      /* a delimiter line (boundary and padding) fits */
	MIME7BIT_HEADER_MAX = 65536,   /* one entity's header section; past it the entity is copied */
	MIME7BIT_BOUNDARY_MAX = 200,
	MIME7BIT_QP_LINE = 76          /* RFC 2045 6.7 (5), the soft break's "=" included */
};

/* Quoted-printable (RFC 2045 6.7), streamed: CRLF and LF are line breaks
 * and stay as they are; a lone CR, which RFC 5322 2.3 allows only in
 * CRLF, is a line break too (CRLF), as dotstuff makes it on the
 * unconverted path; everything else but printable ASCII is =XX, so are
 * blanks before a line break and the input's end, a "." or "F"
 * starting a line (no "." line, no "From " line), and a "-" starting
 * one after a soft break (no delimiter made of a line's tail). */
struct mime7bit_qp {
	size_t col;    /* characters on the current output line */
	int soft;      /* that line follows a soft break */
	int blank;     /* a SP or HT not written yet (0 none) */
	int cr;        /* a CR not written yet */
};
void mime7bit_qp_init(struct mime7bit_qp *);
int mime7bit_qp_put(struct mime7bit_qp *, const char *in, size_t len, struct str *out);
int mime7bit_qp_end(struct mime7bit_qp *, struct str *out);

/* base64 in lines of 76 characters, CRLF after each */
struct mime7bit_b64 {
	unsigned char in[57];
	size_t n;
	int wrote;
};

struct mime7bit_level {
	char bnd[MIME7BIT_BOUNDARY_MAX];
	size_t blen;
	unsigned depth;   /* the multipart entity's */
	int digest;       /* multipart/digest: parts default to message/rfc822 */
};

struct mime7bit {
	const struct mime7bit *plan;   /* NULL: the first pass */
	unsigned char eight[MIME_PARTS_MAX / 8];   /* entity i's body has 8-bit bytes */
	int impossible;   /* first pass: an 8-bit byte no encoding may cover */
	int changed;      /* second pass: a byte differs from the input */
	/* the current line's start, until it ends or fills line */
	char line[MIME7BIT_LINE_MAX];
	size_t linelen;
	int inline_;      /* part of the current line went out already */
	char term[2];     /* the last body line's end, held: a delimiter's when one follows */
	size_t termlen;
	int mode;         /* M7_* in mime7bit.c */
	int enc;          /* the current body's encoding */
	unsigned ent;     /* the current entity's number */
	unsigned nent;
	unsigned depth;
	int digest, msghdr;   /* msghdr: a message's header (MIME-Version may be added) */
	int open;         /* a message/rfc822's header went out, its empty line not (yet) */
	struct str hdr;
	struct mime7bit_level lev[MIME_DEPTH_MAX];
	size_t nlev;
	struct mime7bit_qp qp;
	struct mime7bit_b64 b64;
};

/* plan: NULL for the first pass, else the first pass's finished state */
void mime7bit_init(struct mime7bit *, const struct mime7bit *plan);
/* 0, or -1 ENOMEM; out is appended to (the first pass writes nothing:
 * out may be NULL) */
int mime7bit_put(struct mime7bit *, const char *in, size_t len, struct str *out);
int mime7bit_end(struct mime7bit *, struct str *out);
void mime7bit_free(struct mime7bit *);

#endif
