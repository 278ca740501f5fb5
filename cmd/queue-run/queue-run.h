/* queue-run internals shared by its files: the scheduler (main.c) and
 * the delivery children (job.c, local.c). */
#ifndef QUEUE_RUN_H
#define QUEUE_RUN_H

#include <stddef.h>
#include <sys/types.h>
#include "queue.h"
#include "str.h"

struct cfg {
	unsigned int local_max, remote_max, domain_max;
	unsigned long long lifetime, retry_base, retry_max, warn_after, term_wait;
	const char *deliver, *smtpsend, *queueadd;
	int inproc;           /* local Maildir delivery without exec (PIPEMAIL_DELIVER unset) */
	unsigned long long time_limit;   /* seconds a local delivery program may run, 0 none */
};

enum { JOB_LOCAL = 1, JOB_REMOTE, JOB_BOUNCE };
enum { JOB_RCPT_MAX = 100, JOB_OUT_MAX = 1 << 20, ALIAS_DEPTH_MAX = 10, ALIAS_DEDUPE_MAX = 1000 };

struct jobspec {
	int kind;
	const char *id;
	const struct queue_env *env;
	const struct queue_state *st;
	const size_t *idx;
	size_t n;
	const char *domain;          /* remote */
	const char *report_to;       /* bounce: who gets it */
	const char *report_from;     /* bounce: envelope sender ("" or "#@[]") */
	const char *action;          /* bounce: "failed" or "delayed" */
	const char *me;
	const struct cfg *cfg;
};

/* Run in a child of queue-run, on the queue file msgfd (opened and
 * share-locked before the fork, or -1); write result lines "IDX STATUS DSN
 * HOST TEXT" to sock, wait for the scheduler's acknowledgement, and exit. */
_Noreturn void job_run(const struct jobspec *, int msgfd, int sock);
/* A persistent local worker: job packets "ID IDX..." on the SOCK_SEQPACKET
 * socket in, each with its locked queue file; per job the result lines and
 * ".\n" on out, then it waits for "k" or "K" on in (see job.c). */
_Noreturn void local_worker(const char *me, const struct cfg *, int in, int out);

/* the queue directory's owner and group: queue-add, run for forwards and
 * bounces, runs as them, as it does under smtp-recv (main.c) */
extern uid_t queue_owner;
extern gid_t queue_group;

/* job.c helpers used by local.c */
struct agent {
	char *const *argv;
	const char *sender, *recipient, *dtline;
	int in;                 /* stdin */
	int drop;               /* switch to uid/gid first */
	uid_t uid;
	gid_t gid;
	const char *cwd;        /* or NULL */
	struct str *err;        /* receives stderr (capped), or NULL */
	struct str *out;        /* receives stdout (capped), or NULL */
	unsigned long long limit;   /* seconds; then its process group is killed (0: none) */
};
int agent_run(const struct agent *);        /* exit code, or 111 when it could not run */
/* fd reading exactly the message, or -1; private: a copy, never the
 * queue file, whose envelope (every recipient) an agent running as a
 * user could seek back to */
int msg_stdin(const struct queue_msg *, int private);
int inject(const struct jobspec *, const struct queue_msg *, const char *sender,
    const char *const *rcpts, size_t n, const char *prefix, const char *dsn, struct str *err);
/* the sender as delivery agents see it: "#@[]" is a null sender */
const char *agent_sender(const char *);
void result_line(struct str *out, size_t idx, const char *status, const char *dsn,
    const char *host, const char *text, size_t textlen);
/* ok/perm/temp from an exit code, text from the last stderr line or what */
void job_result_from_exit(struct str *out, size_t idx, int code, const struct str *err, const char *what);
/* smtp-send's output lines -> result lines (missing ones temp, text what or e's last line) */
void remote_results(const struct jobspec *, const struct str *o, int code, const struct str *e,
    const char *what, struct str *out);
int batch_line(const struct jobspec *, unsigned long long msgoff, unsigned long long msglen, struct str *line);
/* state/ID<suffix> into b (at most JOB_OUT_MAX and a bit): 0, or -1 none */
int state_file_read(const char *id, const char *suffix, struct str *b);
void local_deliver(const struct jobspec *, const struct queue_msg *, size_t idx, struct str *result);

/* dead.c: domains whose hosts did not answer (queue-run(8)) */
enum { DEAD_NO, DEAD_SUSPENDED, DEAD_PROBE, DEAD_WAIT };
/* DEAD_NO deliver; DEAD_SUSPENDED defer to *until with *text and *host;
 * DEAD_PROBE its time is up: one job may go (dead_probe when it does);
 * DEAD_WAIT the probe is out: wait for its answer */
int dead_check(const char *domain, unsigned long long t, unsigned long long *until,
    const struct str **text, const struct str **host);
void dead_probe(const char *domain);
/* a result that says no host of the domain could be reached */
int dead_unreached(const struct queue_result *);
/* a remote job's end: every recipient unreached (text, host the last
 * error), or an answer; probe: it was the probe */
void dead_result(const char *domain, int unreached, int probe, const struct str *text, const char *host,
    unsigned long long t, const struct cfg *);
/* an admin's retry: domain's probe now; NULL every domain's suspension ends */
void dead_retry(const char *domain, unsigned long long t);

#endif
