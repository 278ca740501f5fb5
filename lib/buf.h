/* Buffered fd I/O for every protocol and data path (no stdio there).
 * Reads and writes honour an idle timeout per system call and an optional
 * absolute deadline, both on the monotonic clock. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <sys/types.h>
#include "str.h"

enum { BUF_SIZE = 16384 };

struct buf {
	int fd;
	char *p;          /* storage, cap bytes */
	size_t cap;
	size_t pos, len;  /* read buffers: unread bytes are p[pos..len); write buffers: pending p[0..len) */
	int timeout_ms;   /* per read/write wait; <= 0 means none */
	long long deadline_ms; /* absolute monotonic deadline; 0 means none */
	int eof;          /* read side saw end of input */
	int wkind;        /* write side: -1 socket or not yet known, 0 file, 1 pipe */
};

/* buf_getline results */
enum {
	BUF_LINE = 1,      /* a whole line, separator stripped, in line */
	BUF_EOF = 0,       /* clean end of input: nothing was read */
	BUF_ERR = -1,      /* read error, errno set (ETIMEDOUT on a deadline) */
	BUF_TOOLONG = -2,  /* line exceeded max; its rest was read and discarded */
	BUF_PARTIAL = -3   /* input ended inside a line; the bytes are in line */
};

void buf_init(struct buf *, int fd, char *space, size_t cap);
void buf_timeout(struct buf *, int timeout_ms);
void buf_deadline(struct buf *, int ms_from_now);   /* <= 0 clears it */
long long buf_now_ms(void);                          /* monotonic clock */

/* reading */
ssize_t buf_fill(struct buf *);                      /* >0 bytes added, 0 EOF, -1 error */
ssize_t buf_read(struct buf *, char *out, size_t n); /* >0, 0 EOF, -1 error */
int buf_getline(struct buf *, struct str *line, size_t max, char sep);
size_t buf_pending(const struct buf *);              /* unread bytes held in the buffer */
void buf_discard(struct buf *);                      /* drop unread bytes (STARTTLS) */

/* writing: 0 ok, -1 error with errno */
int buf_put(struct buf *, const char *, size_t);
int buf_puts(struct buf *, const char *);
int buf_putu(struct buf *, unsigned long long);
int buf_flush(struct buf *);

/* write all of b or fail; used for unbuffered writes too */
int buf_writeall(int fd, const char *b, size_t n, int timeout_ms, long long deadline_ms);

#endif
