/* One outgoing SMTP connection: plain TCP or libtls after STARTTLS,
 * non-blocking underneath, every read and write bounded by a deadline on
 * the monotonic clock. */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>
#include <sys/socket.h>
#include <tls.h>
#include "str.h"

enum { CONN_RBUF = 8192, CONN_WBUF = 65536 };

struct conn {
	int fd;
	struct tls *tls;
	long long deadline;     /* monotonic ms; reads and writes fail past it */
	size_t rpos, rlen, wlen;
	long long quiet;        /* monotonic ms of the last conn_unasked that found
	                         * the peer quiet, no read or write since; 0 none */
	char rbuf[CONN_RBUF];
	char wbuf[CONN_WBUF];
};

/* 0 connected, -1 errno (ETIMEDOUT after timeout_ms) */
int conn_open(struct conn *, const struct sockaddr *, socklen_t, int timeout_ms);
void conn_deadline(struct conn *, int ms_from_now);
/* One CRLF- or LF-terminated line, without the terminator, at most max
 * bytes: BUF_LINE, BUF_EOF, BUF_ERR, BUF_TOOLONG (as lib/buf.h). */
int conn_getline(struct conn *, struct str *line, size_t max);
int conn_put(struct conn *, const char *, size_t);     /* 0 / -1 */
int conn_puts(struct conn *, const char *);
int conn_flush(struct conn *);
void conn_discard(struct conn *);                      /* drop unread input */
/* Between commands: CONN_UNASKED when the peer sent something unasked
 * (a 421 at its idle timeout, an extra reply), CONN_CLOSED when it closed
 * with nothing unread, CONN_QUIET (0) when it is quiet. */
enum { CONN_QUIET = 0, CONN_UNASKED, CONN_CLOSED };
int conn_unasked(struct conn *);
/* The same, but a quiet answer from a moment ago (nothing read or
 * written since) stands without asking the kernel again. */
int conn_unasked_again(struct conn *);
/* STARTTLS handshake over the open socket. 0 ok, -1 with a reason in err. */
int conn_starttls(struct conn *, struct tls_config *, const char *servername, struct str *err);
void conn_close(struct conn *);

#endif
