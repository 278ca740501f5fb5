/* RFC 5322 / MIME parsing: the one module for header fields (unfolding,
 * RFC 2047 encoded words), Content-Type parameters (RFC 2045, simple
 * RFC 2231), transfer decodings, charset conversion to UTF-8 (iconv) and a
 * bounded walk over the entity tree. Everything works on a message held
 * in memory (a bounded prefix is fine: truncated structure is reported,
 * never trusted). Lengths come from the caller, never from the input.
 * Functions that append to a struct str return 0, or -1 with errno
 * (ENOMEM, EOVERFLOW). */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include "str.h"

enum {
	MIME_DEPTH_MAX = 32,          /* default nesting bound */
	MIME_PARTS_MAX = 256,         /* default entity bound */
	MIME_TYPE_MAX = 64,           /* type, subtype, charset buffers */
	MIME_BOUNDARY_MAX = 70        /* RFC 2046's limit; mime_walk takes longer ones, as mail readers do */
};

struct mime_field {
	const char *name;     /* as written, without the colon */
	size_t namelen;
	const char *value;    /* raw value: after the colon, still folded, no final line end */
	size_t valuelen;
};

/* Split a message: *hdrlen is the header block without the separating
 * empty line, *bodyoff where the body starts (len when there is none).
 * A line that is neither a field nor a continuation ends the header
 * too, and starts the body, as mail readers show it. */
void mime_split(const char *msg, size_t len, size_t *hdrlen, size_t *bodyoff);

/* Iterate over header fields; *pos starts at 0. 1 a field, 0 the end.
 * Lines that are neither fields nor continuations are skipped. */
int mime_field_next(const char *hdr, size_t hdrlen, size_t *pos, struct mime_field *);
/* The first field named name (case-insensitive): 1 found, 0 not. */
int mime_field_find(const char *hdr, size_t hdrlen, const char *name, struct mime_field *);
int mime_name_is(const struct mime_field *, const char *name);

/* Appends the value with folding removed, CR/LF gone, ends trimmed. */
int mime_unfold(struct str *out, const char *v, size_t len);
/* Appends the unfolded value with RFC 2047 encoded words decoded to UTF-8
 * (other bytes made valid UTF-8, NUL and controls turned into spaces). */
int mime_decode_header(struct str *out, const char *v, size_t len);

/* Bytes the encoded-word scanner has examined in this process so far: a
 * test hook, so unit tests bound mime_decode_header's work (linear in the
 * field) without timing it. */
unsigned long mime_ew_scanned(void);
/* Body bytes the multipart delimiter search has examined so far: the
 * same kind of hook, for mime_walk's search (linear in each body). */
unsigned long mime_delim_scanned(void);
/* Charset converters opened (iconv_open) so far: each can cost loading
 * a module, so they are opened at a rate bounded by the text read. */
unsigned long mime_iconv_opens(void);

/* Content-Type "type/subtype": lowercased into NUL-terminated buffers of
 * MIME_TYPE_MAX; 0 parsed, -1 absent or malformed (buffers left empty). */
int mime_ctype(const char *v, size_t len, char *type, char *subtype);
/* Parameter attr (case-insensitive) of a Content-Type/-Disposition value,
 * unquoted; RFC 2231 continuations and charset'lang' prefix are joined and
 * %-decoded. Output replaces out's contents. 1 found, 0 not, -1 errno. */
int mime_param(const char *v, size_t len, const char *attr, struct str *out);
/* Every parameter in order, as written (no RFC 2231 joining): *pos starts
 * at 0; name lowercased, value unquoted. 1 one, 0 the end, -1 errno.
 * For IMAP BODYSTRUCTURE's parameter lists. */
int mime_param_next(const char *v, size_t len, size_t *pos, struct str *name, struct str *value);

enum { MIME_CTE_7BIT, MIME_CTE_8BIT, MIME_CTE_BINARY, MIME_CTE_QP, MIME_CTE_BASE64, MIME_CTE_OTHER };
int mime_cte(const char *v, size_t len);

/* Quoted-printable (RFC 2045 6.7), lenient: bad escapes are kept as is;
 * blanks ending a line (or the text) are deleted, as 6.7 (3) asks, CRs
 * among them kept; a lone CR inside a line ends no line.
 * header != 0 decodes '_' as a space (RFC 2047 Q). */
int mime_qp_decode(struct str *out, const char *in, size_t len, int header);
/* in (in charset; NULL or "" means us-ascii) appended as valid UTF-8:
 * invalid or unconvertible bytes become U+FFFD; an unknown charset is read
 * as UTF-8 when valid, else as windows-1252. Converters are cached, and
 * opened at most once per 4 KiB of text read (16 saved up): a charset
 * past that is read as an unknown one. */
int mime_utf8(struct str *out, const char *charset, const char *in, size_t len);

struct mime_part {
	unsigned depth;          /* 0: the message itself */
	unsigned index;          /* depth-first entity number, 0 first */
	int multipart;           /* a container: its children follow */
	const char *header;      /* header block of the entity */
	size_t headerlen;
	const char *body;        /* raw (still encoded) body */
	size_t bodylen;
	char type[MIME_TYPE_MAX];      /* lowercased; text/plain by default */
	char subtype[MIME_TYPE_MAX];
	char charset[MIME_TYPE_MAX];   /* lowercased, "" if none */
	int cte;                 /* MIME_CTE_* */
};

struct mime_limits {
	unsigned depth;          /* deeper entities are not split further */
	unsigned parts;          /* entities visited at most */
	size_t bytes;            /* decoded output per mime_body() call at most */
};

/* Anomalies mime_walk reports (bits of its result). */
enum {
	MIME_E_DEPTH = 1,        /* nesting beyond limits.depth */
	MIME_E_PARTS = 2,        /* more entities than limits.parts */
	MIME_E_UNTERMINATED = 4, /* a multipart without its close delimiter */
	MIME_E_NOBOUNDARY = 8,   /* multipart with no or a bad boundary */
	MIME_E_STOPPED = 16,     /* the callback asked to stop */
	MIME_E_BUDGET = 32       /* an encoded message/rfc822 walked only in part (the 4x budget) */
};

/* Visit every entity depth-first: fn(arg, part); a non-zero return stops
 * the walk. limits NULL means the defaults above. message/rfc822 bodies
 * are entered as messages; one sent base64 or quoted-printable is decoded
 * first (all such copies together at most 4 times len bytes: one cut
 * short, or left out, sets MIME_E_BUDGET), and the
 * header and body of the parts inside point into that copy, valid until
 * fn returns: keep no pointers past it. Returns the MIME_E_* bits. */
typedef int (*mime_fn)(void *arg, const struct mime_part *);
int mime_walk(const char *msg, size_t len, const struct mime_limits *, mime_fn fn, void *arg);

/* Appends the part's body with its transfer encoding undone: its first
 * max decoded bytes, however much padding or junk the encoding carries
 * before them; for text/ types with utf8 != 0, converted to UTF-8. */
int mime_body(struct str *out, const struct mime_part *, int utf8, size_t max);

#endif
