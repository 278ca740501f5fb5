/* smtp-send's shared state: the job (one message, one domain's
 * recipients) and the per-recipient results the session fills in. */
#ifndef SMTP_SEND_H
#define SMTP_SEND_H

#include <sys/types.h>
#include <tls.h>
#include "dns.h"
#include "routes.h"
#include "smtpreply.h"
#include "str.h"

enum { ST_PENDING = 0, ST_OK, ST_TEMP, ST_PERM };

enum { ADDR_MAX = 320, RCPT_MAX = 10000, DSN_LINE_MAX = 1024, ATTEMPTS_MAX = 32, READ_BUF_SIZE = 65536,
	BATCH_LINE_MAX = 65536, WIRE_KEEP = 65536 };

/* RFC 5321 4.5.3.2 timeouts, in ms */
enum {
	TO_GREETING = 300000, TO_EHLO = 300000, TO_MAIL = 300000, TO_RCPT = 300000,
	TO_DATA = 120000, TO_BLOCK = 180000, TO_DOT = 600000, TO_QUIT = 10000
};

enum { TLS_MODE_NO = 1, TLS_MODE_TRY, TLS_MODE_MUST, TLS_MODE_VERIFY };  /* as ROUTE_TLS_* */

struct rcpt {
	const char *addr;
	char *ascii;          /* addr for a peer without SMTPUTF8 (A-label domain), NULL: none */
	int utf8;             /* addr has non-ASCII bytes */
	struct str dsn;       /* " NOTIFY=... ORCPT=..." or empty */
	int status;           /* ST_* */
	int accepted;         /* 250 to RCPT in the current session */
	int intxn;            /* sent in the current transaction */
	int here;             /* pending when the current session took the job: a verdict now is its host's */
	int relayed;          /* delivered to a peer without DSN, NOTIFY=SUCCESS asked */
	char enh[SMTPREPLY_ENH_MAX];
	struct str text;      /* the reply, printable */
	char host[DNS_NAME_MAX + 1];   /* who answered, "" for nobody */
};

struct job {
	const char *sender;
	char *sender_ascii;   /* as rcpt.ascii */
	const char *domain;
	const char *helo;
	struct rcpt *rcpt;
	size_t nrcpt;
	struct str dsnmail;   /* " RET=... ENVID=..." or empty */
	int msgfd;
	off_t msgoff;
	unsigned long long size;       /* bytes in the message file */
	unsigned long long wiresize;   /* as SIZE counts them: CRLF line ends, no stuffed dots (RFC 1870) */
	int eightbit, utf8;   /* utf8: some envelope address has non-ASCII bytes */
	int sender_utf8;
	int hdr8;             /* UTF-8 (8-bit) in the header section (RFC 6532) */
	int hstate;           /* scanning the header section: HS_* in job.c */
	int tlsmode;          /* TLS_MODE_* */
	struct tls_config *tlscfg;   /* no verification; made on first use */
	struct tls_config *tlsverify;
	const char *cafile;
	const char *user, *pass;     /* AUTH for this route, or NULL */
	int tcap;             /* cap on every timeout in ms, 0 none */
	/* the message as the wire gets it (CRLF, dots stuffed, ".\r\n"),
	 * kept by the scan when the message is at most WIRE_KEEP bytes: sent
	 * from memory, not read and encoded a second time. Reused by every
	 * job of a batch. */
	struct str wire;
	int wireok;
	/* the message made 7-bit for a peer without 8BITMIME (conv.c):
	 * planned at the first such peer, kept for the job */
	int conv;                      /* 0 not planned, else conv_plan's result (0 as -1) */
	unsigned long long convsize;   /* its wiresize */
	struct mime7bit *plan;         /* the conversion's first pass */
};

/* attempt results */
enum {
	ATT_DONE = 0,     /* the host gave its verdict: results are final */
	ATT_NEXT,         /* try the next address; lasterr says why */
	ATT_PLAIN,        /* TLS failed in opportunistic mode: retry this address without it */
	ATT_STALE,        /* a reused connection died before the data went out: nothing decided */
	ATT_UNFIT         /* as ATT_NEXT, but the host cannot take this message (its
	                   * SIZE, no 8BITMIME or SMTPUTF8 it needs): lastenh 5.x.x */
};

struct sess;
struct mime7bit;
struct dotstuff;

/* Connect to one address: greeting, EHLO, STARTTLS, AUTH. ATT_DONE with
 * *out set, else ATT_NEXT or ATT_PLAIN with the reason in lasterr. */
int session_open(struct job *, const char *host, const struct dns_addr *, int tlsmode,
    struct str *lasterr, char lastenh[SMTPREPLY_ENH_MAX], struct sess **out);
/* Transactions for the job's pending recipients. ATT_DONE: every
 * recipient settled. ATT_NEXT: the host put the transaction off (a 4xx
 * to MAIL, a 421 before the data was taken, the connection lost before
 * the data's end went out): those not settled by a reply to their RCPT
 * are pending still, for the next address, and the reason is in lasterr.
 * ATT_UNFIT: the same, the host unable to take this message (ATT_UNFIT above),
 * or recipients with no ASCII form left pending for lack of SMTPUTF8.
 * ATT_STALE: a reused connection died before the
 * data went out (nothing decided: the caller may try a fresh one). */
int session_deliver(struct sess *, struct job *, int reused, struct str *lasterr,
    char lastenh[SMTPREPLY_ENH_MAX]);
/* The host name and address (with port) the session is connected to */
void session_peer(const struct sess *, char *host, size_t hostlen, struct dns_addr *);
int session_reusable(struct sess *, int max_age_ms);
void session_close(struct sess *);   /* QUIT, log, free */

/* The TLS configuration for verify or not, made on first use; NULL with
 * the reason in err. */
struct tls_config *job_tlsconfig(struct job *, int verify, struct str *err);

/* job.c */
/* Set every pending recipient's result. */
void job_settle(struct job *, int status, const char *enh, const char *text, const char *host);
void job_settle_one(struct rcpt *, int status, const char *enh, const char *text, const char *host);
/* The recipients (unusable ones settled at once); job_free undoes it. */
void job_envelope(struct job *, char **rcpts, size_t n);
void job_free(struct job *);
void read_dsn(struct job *, const char *text, char sep);   /* PIPEMAIL_DSN or a batch DSN line */
void message_open(struct job *);          /* stdin, spooled when not a file */
int message_file(struct job *, const char *path, unsigned long long off, unsigned long long len, int haslen);
/* The message's next block, from *off with *left bytes to go (both
 * moved on): its length, 0 at the end, -1 unreadable (errno; EINVAL: it
 * is shorter than it was). */
ssize_t message_read(const struct job *, char *buf, size_t cap, off_t *off, unsigned long long *left);
/* One line per recipient appended to o; the exit code for this job. */
int job_results(const struct job *, struct str *o);
/* job_results written to stdout */
int print_results(const struct job *);

/* conv.c */
/* Plan the 7-bit conversion: 1 possible (j->plan, j->convsize set), 2
 * nothing to convert (8-bit bytes in header fields only, which go as
 * they are), 0 not possible (an 8-bit byte no encoding may cover), -1
 * errno (memory, reading). */
int conv_plan(struct job *);
void conv_free(struct job *);
/* One block of the message through the conversion and the DATA encoding
 * into out (n 0: the end); mid is scratch. 0, or -1 ENOMEM. */
int conv_block(struct mime7bit *, struct dotstuff *, const char *in, size_t n, struct str *mid, struct str *out);

/* route.c */
struct target {
	char host[DNS_NAME_MAX + 1];
	int system;   /* a route's host: the system resolver (/etc/hosts too) */
	unsigned pref;   /* MX preference (an implicit MX: 0) */
};

/* Where one job goes: hosts in order, port, TLS policy, credentials. */
struct plan {
	struct target t[DNS_MX_MAX];
	size_t nt;
	int more;             /* the domain has more MX hosts than t holds */
	unsigned port;
	int tlsmode;
	struct route route;
	struct str key;       /* the connection cache key */
};

struct opts {
	unsigned port;
	int want, tlsmode, noroutes;
	const char *routesfile;
};

/* One open connection kept between the jobs of a batch. */
struct cache {
	struct sess *s;
	struct str key;
};

/* Route j (routes file or MX) and deliver it, through c when not NULL. */
void run_job(struct job *, const struct opts *, struct plan *, struct cache *c);

#endif
