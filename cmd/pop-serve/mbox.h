/* The mailbox a POP3 session sees: a snapshot of new/ and cur/ taken at
 * login (T-flagged files left out), numbered in delivery order. DELE
 * only takes effect in mbox_commit (QUIT). */
#ifndef MBOX_H
#define MBOX_H

#include "buf.h"
#include "str.h"

enum { MBOX_UIDL_MAX = 70 };   /* RFC 1939 7: 1 to 70 characters 0x21..0x7E */
enum { MBOX_PREFETCH = 16 };   /* messages opened ahead of a sequential RETR run */
/* the largest ",W=" size believed: 1 TB, far past any message, so that a
 * message's size plus the CRLF a last line may gain cannot wrap */
#define MBOX_SIZE_MAX (1ULL << 40)

struct mbox_msg {
	size_t name;              /* offset into names: "new/NAME" or "cur/NAME" */
	size_t uid;               /* offset into names: the unique-id listing */
	unsigned long long size;  /* with CRLF line ends, before dot-stuffing */
	unsigned char deleted, retrieved;
	unsigned char tailok;     /* size counts the line end added to a last line without LF */
	unsigned char shared;     /* its unique part is another listed message's too */
};

struct mbox {
	int dirfd;
	int lockfd;
	int pf_fd[MBOX_PREFETCH];             /* slot j % MBOX_PREFETCH holds message pf_idx */
	unsigned long pf_idx[MBOX_PREFETCH];
	unsigned long last_sent;              /* for spotting a sequential run; count = none */
	struct mbox_msg *msg;
	unsigned long count;
	unsigned long ndeleted;
	unsigned long long total;   /* sizes of the messages not deleted */
	struct str names;           /* NUL-separated name and uid strings */
	struct str path;            /* the Maildir, for its maildirsize */
};

enum { MBOX_OK = 0, MBOX_INUSE = -2, MBOX_ERR = -1 };

/* Open and lock the Maildir and take the snapshot. MBOX_INUSE when
 * another session holds the lock; MBOX_ERR with errno otherwise. */
int mbox_open(struct mbox *, const char *maildir);
void mbox_close(struct mbox *);   /* releases the lock; commits nothing */

const char *mbox_uid(const struct mbox *, unsigned long i);   /* i from 0 */
void mbox_dele(struct mbox *, unsigned long i);
void mbox_rset(struct mbox *);

enum { MBOX_SEND_NOFILE = -1, MBOX_SEND_WRITE = -2, MBOX_SEND_READ = -3, MBOX_SEND_UNREADABLE = -4 };
/* Write "+OK SIZE octets", then message i dot-stuffed with CRLF ends
 * and the final ".\r\n". SIZE is exactly what the message takes on the
 * wire before dot-stuffing; a ",W=" size (the writer's count, which
 * leaves out the end added to a last line without LF) is corrected here
 * from the file's last byte, and LIST and STAT follow from then on;
 * after a whole message the size is what was sent. lines: body lines for TOP, or
 * (unsigned long long)-1 for the whole message. 0 ok; MBOX_SEND_NOFILE
 * when the file is gone, MBOX_SEND_UNREADABLE (errno) when its first
 * read fails (nothing written for either); MBOX_SEND_WRITE or
 * MBOX_SEND_READ on an I/O error after "+OK" (the session cannot go on:
 * a truncated message must not end with the terminator). */
int mbox_send(struct mbox *, unsigned long i, struct buf *out, unsigned long long lines);

/* QUIT: unlink the deleted messages and fsync the directories. Returns
 * the number of deletions that failed (0 = all done); when a directory
 * sync fails every unlinked one counts as failed too (it may come back).
 * Once synced, the removed bytes and count go to maildirsize, when there
 * is one, as negative deltas (Maildir++). */
unsigned long mbox_commit(struct mbox *, unsigned long *deleted);
/* Move message i to cur/ with the S flag (after a RETR: a flag change,
 * not synced; the unique part and so the UIDL stay). 1 moved, 0 nothing
 * to do or it vanished, -1 error. */
int mbox_mark_seen(struct mbox *, unsigned long i);

#endif
