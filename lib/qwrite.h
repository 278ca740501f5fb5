/* Writing one message into the queue: the work of queue-add, which
 * smtp-recv also does in its own process when no QMAILQUEUE is set (an
 * exec per message saved). The file layout is lib/queue.h's.
 *
 *   qwrite_open     mess/ID under a unique ID: a pool file taken (see
 *                   queue.h), else a new one (O_EXCL)
 *   qwrite_put      message bytes, any number of times, buffered
 *   qwrite_commit   envelope and header, fsync the file and mess/, link
 *                   into new/, wake queue-run: then, and only then, the
 *                   message is queued
 *   qwrite_abort    remove what was written
 *
 * Every call returns a qmail-queue code (QQ_OK or the QQ_* that
 * queue-add exits with) and, on failure, leaves errno (0 when the cause
 * is not a system error) and a short verb/object/reason for the log.
 * After a failure every later call but qwrite_abort repeats it. */
#ifndef QWRITE_H
#define QWRITE_H

#include <stddef.h>
#include "queue.h"

enum { QWRITE_BUF = 65536 };

struct qwrite {
	int messfd, newfd, fd;
	char id[QUEUE_ID_MAX + 1];
	unsigned long long msglen;      /* message bytes so far */
	unsigned long crc;              /* CRC-32 of them */
	int code;                       /* first failure, QQ_OK none */
	int err;                        /* its errno */
	const char *verb, *obj, *why;   /* its words, for die_sys/die_x or a log */
	size_t n;                       /* bytes waiting in b */
	char b[QWRITE_BUF];
};

int qwrite_open(struct qwrite *);
int qwrite_put(struct qwrite *, const char *p, size_t n);
/* env is the qmail-queue envelope, F<sender>\0 T<rcpt>\0 ... \0, checked
 * here (QQ_PERM_ENV / QQ_PERM_ADDR); dsn the PIPEMAIL_DSN text or NULL */
int qwrite_commit(struct qwrite *, const char *env, size_t envlen, const char *dsn);
void qwrite_abort(struct qwrite *);

/* Check a qmail-queue envelope: QQ_OK, or a QQ_* code with *why set.
 * Bytes after the terminating empty field are ignored, as qmail-queue
 * ignores them. */
int qwrite_envelope_check(const char *env, size_t len, const char **why);

/* Drop repeated recipients from rcpts (addresses, NUL-terminated each):
 * the same local part at the same domain in any case, as "To: bob,
 * Cc: bob" or sendmail -t with bob also an argument make. The first stays,
 * with its PIPEMAIL_DSN line; *dsnout gets dsn without the lines of those
 * dropped (dsn may be NULL). The number dropped, or -1 (ENOMEM). */
int qwrite_unique(struct str *rcpts, const char *dsn, struct str *dsnout);

#endif
