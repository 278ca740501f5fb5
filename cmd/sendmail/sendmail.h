/* sendmail: the message is read once, headers into memory (bounded),
 * the body streamed into the queue program's pipe. */
#ifndef SENDMAIL_H
#define SENDMAIL_H

#include <stddef.h>
#include "buf.h"
#include "str.h"

enum {
	HEADER_LINE_MAX = 65536,     /* one physical header line */
	HEADERS_MAX = 1048576,       /* the whole header section */
	SM_ADDR_MAX = 320,
	SM_NAME_MAX = 256,           /* bytes of a display name (-F, NAME, GECOS) */
	SM_ENVID_MAX = 100           /* RFC 3461 4.4, as xtext */
};

struct headers {
	struct str out;      /* header lines to write, LF-terminated, Bcc removed */
	struct str rcpts;    /* with -t: To/Cc/Bcc addresses, NUL-terminated each;
	                      * of a resent message, Resent-To/Cc/Bcc's instead */
	size_t nrcpt;
	struct str resent;   /* Resent-To/Cc/Bcc addresses while reading */
	size_t nresent;
	int is_resent;       /* a Resent- field was seen */
	int has_from, has_date, has_msgid;
	int has_rfrom, has_rdate, has_rmsgid;   /* their Resent- forms */
	int ended;           /* a "." line ended the input (without -i) */
	int blank;           /* the header section ended with an empty line */
	struct str first;    /* a body line read while looking for headers */
	int first_open;      /* BODY_MID or BODY_MID_CR: first is the start of a
	                      * line longer than HEADER_LINE_MAX, its rest unread */
};

/* where body_copy starts: at a line's beginning, or inside one (after a CR) */
enum { BODY_BOL, BODY_MID, BODY_MID_CR };

/* Read the header section from in. 0 ok, else a sysexits code. */
int headers_read(struct buf *in, int tflag, int iflag, struct headers *h);

/* Copy the rest of in to fd, from where start says: CRLF becomes LF;
 * without -i a line of a single dot ends the input. 0 ok, -1 read error,
 * -2 write error. */
int body_copy(struct buf *in, struct buf *out, int iflag, int start);

#endif
