/* The mail queue: PIPEMAIL_QUEUE, default /var/spool/pipemail.
 *
 *   mess/ID    one file per message, written once by queue-add:
 *                offset 0     header, QUEUE_HDR_LEN bytes:
 *                             "PMQ1 MSGOFF MSGLEN ENVOFF ENVLEN CRC\n" padded with spaces
 *                             (CRC: CRC-32 of message then envelope, so that
 *                             blocks a crash left unwritten under a header
 *                             that was written are caught, not delivered)
 *                ENVOFF       the envelope (below), ENVLEN bytes
 *                MSGOFF       the message exactly as received, MSGLEN bytes
 *              The envelope sits in the first page (ENVOFF QUEUE_HDR_LEN,
 *              MSGOFF QUEUE_MSG_OFF) when it fits and the message is not
 *              empty, else after the message: one of them ends the file.
 *              The header is written last: a file whose header does not
 *              parse, or whose size differs from what it announces, is
 *              incomplete (queue-add died) and is not mail.
 *   new/ID     a hard link queue-add makes once mess/ID is complete: the
 *              notice that tells queue-run about new mail
 *   state/ID   queue-run's per-recipient delivery state, replaced by rename
 *   tmp/       scratch for state files
 *   pool/      emptied queue files of finished messages, kept for the next
 *              writer: it takes one by rename into mess/ instead of
 *              creating a file, so the queue's churn frees and allocates
 *              no inodes (on ext4 without a journal every creation scans
 *              past the inodes freed in the last minutes). A writer
 *              locks a pool file, checks it (plain, one link, its own),
 *              empties it, and only then renames it into mess/.
 *   trigger    a FIFO queue-run reads; queue-add writes one byte to it
 *
 * ID is digits and dots only (SECONDS.USEC.PID), so it is safe in a path.
 *
 * The envelope is a list of NUL-terminated fields ending with an empty
 * field:  A<arrival seconds> U<uid> D<PIPEMAIL_DSN> F<sender> T<rcpt>...
 * (A, U, D optional and before F; at least one T). */
#ifndef QUEUE_H
#define QUEUE_H

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "str.h"

enum {
	QUEUE_HDR_LEN = 64,
	QUEUE_MSG_OFF = 4096,
	QUEUE_ADDR_MAX = 1000,          /* one address in the envelope */
	QUEUE_RCPT_MAX = 100000,        /* recipients in one envelope */
	QUEUE_DSN_MAX = 1 << 20,        /* PIPEMAIL_DSN text */
	QUEUE_ID_MAX = 64
};
/* The largest envelope queue-add writes within the limits above, and so
 * the largest a reader takes: A and U (a letter, 20 digits, NUL each), D,
 * F, every T, the final NUL. One number for both sides: a reader's
 * smaller one left mail queue-add had acknowledged unread (a long sender
 * beside the most and longest recipients). */
enum { QUEUE_ENV_MAX = 2 * 22 + (QUEUE_DSN_MAX + 2) + (QUEUE_RCPT_MAX + 1) * (QUEUE_ADDR_MAX + 2) + 1 };

const char *queue_dir(void);
/* Open a queue file that must be a plain file (flags and mode as
 * open(2)'s): never through a symbolic link (ELOOP), never waiting on a
 * FIFO planted there; anything but a plain file is EINVAL, and so is a
 * file with more than one link opened for writing (a hard link from
 * outside the queue; O_TRUNC is applied only after that check).
 * -1 errno. */
int queue_open(const char *path, int flags, mode_t mode);
/* the same, name relative to dirfd as openat(2)'s */
int queue_openat(int dirfd, const char *name, int flags, mode_t mode);
/* out = queue_dir "/" sub ["/" id]: for logs and other processes */
int queue_path(struct str *out, const char *sub, const char *id);
/* Hold mess/, new/, state/, tmp/ and pool/ open (never through a link),
 * for root's queue-run: the queue's owner may rename anything inside the
 * queue, and a directory swapped for a link must not take root's files
 * elsewhere. From then on the _in calls below work relative to these
 * descriptors (openat, renameat, ...), never through the names. They
 * are close-on-exec; forked children share them. 0 pinned, -1 error
 * (errno; ELOOP or ENOTDIR: one of them is not a directory). */
int queue_pin(void);
/* The file name in sub/ ("mess", "state", ...), through sub's pinned
 * descriptor once queue_pin has run, else through queue_path's path;
 * name NULL is sub itself. As queue_open, unlinkat, fstatat (never
 * following a link), renameat (renameat2 when flags), opendir, and an
 * O_DIRECTORY open of sub (its own descriptor, for fsync or reading;
 * unpinned, sub may not be a link: ELOOP or ENOTDIR); -1 or NULL errno. */
int queue_open_dir(const char *sub);
/* sub/name for the *at calls of one's own: returns sub's pinned
 * descriptor with *nm = name (or "." for sub itself), or AT_FDCWD with
 * *nm the whole path, kept in tmp. -1 ENOMEM. */
int queue_at(const char *sub, const char *name, struct str *tmp, const char **nm);
int queue_open_in(const char *sub, const char *name, int flags, mode_t mode);
int queue_unlink_in(const char *sub, const char *name);
int queue_stat_in(const char *sub, const char *name, struct stat *);
int queue_rename_in(const char *fsub, const char *fname, const char *tsub, const char *tname, unsigned flags);
DIR *queue_opendir(const char *sub);
/* fsync sub/ (queue_open_dir's), or with sub NULL the queue directory
 * itself: a name made there durable. 0 / -1 errno. */
int queue_sync_in(const char *sub);
/* Create the queue directory, its subdirectories and the trigger FIFO
 * where missing (mode: directories 0750). 0 ok, -1 errno. */
int queue_init(void);
/* 1 if id is a well-formed queue id (digits and dots, bounded) */
int queue_id_ok(const char *id);

enum { QUEUE_POOL_MAX = 100000 };   /* no more than the queue once held */
/* A finished message's mess/ID: moved to pool/ when pool is set and it is
 * a plain file with one link owned by owner, else unlinked; emptied there
 * too with QUEUE_POOL, left to queue_pool_empty with QUEUE_POOL_FULL.
 * 1 pooled, 0 unlinked, -1 neither (errno). */
enum { QUEUE_UNLINK = 0, QUEUE_POOL = 1, QUEUE_POOL_FULL = 2 };
int queue_recycle(const char *id, int pool, uid_t owner);
/* Empty pool/ID from a process holding that file open and share-locked
 * (fd): writers lock exclusively, so none takes it meanwhile. Only while
 * the name still points to fd's file. 0 emptied, -1 not (errno).
 * The emptied file is fsync'd at once (so is one a writer empties when it
 * takes it): its freed blocks go to the next writes, which their writers
 * sync; were its own inode still claiming them on disk (ext4 without a
 * journal writes it only with the next sync), after a crash e2fsck finds
 * them claimed twice and copies them to blocks it believes free, which
 * can be those of a file it has not looked at yet, such as a message just
 * delivered to a Maildir: that message is overwritten (test 204). */
int queue_pool_empty(const char *id, int fd);
/* files in pool/ (stops counting at QUEUE_POOL_MAX); -1 errno */
int queue_pool_count(void);

struct queue_hdr {
	unsigned long long msgoff, msglen, envoff, envlen;
	unsigned long long crc;   /* CRC-32 of the message then the envelope */
	int has_crc;              /* files from before the CRC have none */
};
/* header bytes -> fields; 0 ok, -1 malformed */
int queue_hdr_parse(const char *b, size_t n, struct queue_hdr *);
/* fields -> exactly QUEUE_HDR_LEN bytes in out; -1 if they do not fit */
int queue_hdr_fmt(char *out, const struct queue_hdr *);
/* CRC-32 of the message region then the envelope region, read from fd */
int queue_crc(int fd, const struct queue_hdr *, unsigned long long *crc);

struct queue_env {
	unsigned long long arrival;
	unsigned long long uid;
	struct str raw;       /* the envelope bytes; the pointers below point into it */
	const char *dsn;      /* "" when none */
	const char *sender;
	const char **rcpt;
	size_t nrcpt;
};
#define QUEUE_ENV_INIT { 0, 0, STR_INIT, "", NULL, NULL, 0 }

/* Parse a stored envelope (copied into env->raw). 0 ok, -1 malformed
 * (errno EINVAL) or no memory (ENOMEM). */
int queue_env_parse(struct queue_env *, const char *b, size_t n);
void queue_env_free(struct queue_env *);
/* Serialise: arrival, uid, dsn (may be NULL), sender, rcpts as NUL-separated
 * list of nrcpt strings.  0 ok, -1 ENOMEM. */
int queue_env_fmt(struct str *out, unsigned long long arrival, unsigned long long uid,
    const char *dsn, const char *sender, const char *rcpts, size_t rcptslen);

/* An open queue file. */
struct queue_msg {
	int fd;
	struct queue_hdr hdr;
	struct queue_env env;
	unsigned long long size;  /* file size */
};
/* 1 ok, 0 incomplete or malformed (not mail), -1 error (errno) */
int queue_msg_open(struct queue_msg *, const char *path);
/* the same for mess/id (queue_open_in) */
int queue_msg_open_id(struct queue_msg *, const char *id);
/* the same for a queue file already open for reading (it is m's now:
 * closed on failure, and by queue_msg_close) */
int queue_msg_fdopen(struct queue_msg *, int fd);
/* Header and envelope only, as queue_msg_open_id but without the CRC
 * (which reads the whole message): for a listing, whose cost must not
 * grow with the size of the mail queued. A file whose header or
 * envelope is damaged, or whose size differs from what the header
 * says, is still 0; one whose message text is damaged is not. */
int queue_msg_open_id_env(struct queue_msg *, const char *id);
/* m's CRC (from queue_msg_open_id_env) checked now: 1 it holds (or the
 * file is from before the CRC), 0 it does not, -1 error (errno) */
int queue_msg_crc_ok(const struct queue_msg *);
void queue_msg_close(struct queue_msg *);

/* Per-recipient delivery state, state/ID (after queue_state_save's line
 * "ID <id>"): a first line "PMS1 FLAGS" then
 * one line per envelope recipient, in order:
 *   STATUS ATTEMPTS NEXT LAST DSN HOST TEXT
 * STATUS p pending, d delivered, f failed (report not yet sent),
 * x failed and reported (or nothing to report), s delivered with a
 * success report (NOTIFY=SUCCESS) still to send, y the same for a relay
 * to a peer without DSN ("relayed"), e for an alias forwarded to several
 * addresses ("expanded"); NEXT/LAST unix seconds;
 * DSN an enhanced code or "-"; HOST "-" or who answered; TEXT the last
 * reply (control bytes made spaces). Missing or corrupt state means
 * every recipient pending: mail is re-delivered, never lost. */
enum { QS_PENDING = 'p', QS_DONE = 'd', QS_FAILED = 'f', QS_REPORTED = 'x', QS_DELIVERED_NOTIFY = 's',
	QS_RELAYED_NOTIFY = 'y', QS_EXPANDED_NOTIFY = 'e' };
/* done, with a success report still to send (s, y or e) */
static inline int
queue_success_due(char status)
{
	return status == QS_DELIVERED_NOTIFY || status == QS_RELAYED_NOTIFY || status == QS_EXPANDED_NOTIFY;
}
enum { QS_WARNED = 1 };     /* flags: delay warning sent */
enum { QUEUE_TEXT_MAX = 512, QUEUE_DSNCODE_MAX = 15 };

struct queue_rstate {
	char status;
	unsigned int attempts;
	unsigned long long next, last;
	char dsn[QUEUE_DSNCODE_MAX + 1];
	struct str host, text;
};
struct queue_state {
	unsigned int flags;
	size_t n;
	struct queue_rstate *r;
};
#define QUEUE_STATE_INIT { 0, 0, NULL }

int queue_state_init(struct queue_state *, size_t n);     /* all pending; 0 / -1 ENOMEM */
void queue_state_free(struct queue_state *);
/* 0 ok, -1 malformed (EINVAL: caller starts fresh) or ENOMEM */
int queue_state_parse(struct queue_state *, const char *b, size_t len, size_t nrcpt);
int queue_state_fmt(const struct queue_state *, struct str *out);
/* state/ID -> st (fresh when absent or corrupt). 0 ok, -1 errno. */
int queue_state_load(const char *id, struct queue_state *, size_t nrcpt);
/* tmp/ID.state, then rename over state/ID (no fsync: see queue-run(8)).
 * The file is "ID <id>\n" and then queue_state_fmt's text; load takes a
 * file naming another id for corrupt, and one without the line (older
 * than it) as it is. */
int queue_state_save(const char *id, const struct queue_state *);
/* state/name replaced by b (len bytes): written to tmp/name.state, with
 * sync set fsync'd, then renamed over it (the directory sync is the
 * caller's). 0 / -1 errno. */
int queue_state_put(const char *name, const char *b, size_t len, int sync);
/* state/ID and the files beside it (ID.qmail: delivery-file lines done;
 * ID.rep: a report's failures) unlinked, those absent ignored: once the
 * message is gone, by whichever program removed it */
void queue_state_remove(const char *id);
/* set the reply fields of one recipient (text sanitised and capped) */
int queue_rstate_set(struct queue_rstate *, const char *dsn, const char *host,
    const char *text, size_t textlen);

/* One delivery result line: "IDX STATUS DSN HOST TEXT" with STATUS ok,
 * temp, perm, relayed (accepted by a peer that will not answer a DSN
 * request: RFC 3461 asks us for a "relayed" report), forwarded (a local
 * forward that carries the DSN request on: no report of ours) or
 * expanded (a local alias forwarded to several addresses).
 * 0 ok, -1 malformed. host and text are copied. */
struct queue_result {
	size_t idx;
	char status;    /* 'o', 't', 'p', 'r', 'F', 'e' */
	char dsn[QUEUE_DSNCODE_MAX + 1];
	struct str host, text;
};
int queue_result_parse(struct queue_result *, const char *line, size_t len);
/* The text a remote result begins with when no connection to the host
 * could be made (smtp-send, 4.4.1): queue-run takes a domain whose every
 * recipient came back so for dead, and suspends it */
#define QUEUE_TEXT_NOCONNECT "unable to connect: "

/* Wake queue-run: one byte into the trigger FIFO, never blocking.
 * Silent when nobody listens. */
void queue_trigger(void);
/* The trigger, opened with flags | O_NONBLOCK, only if it is a FIFO (not
 * through a link: root writes to it). -1 errno; EINVAL something else. */
int queue_trigger_open(int flags);

#endif
