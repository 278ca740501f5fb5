/* smtp-recv: one ESMTP session on fds 0/1. The session state, shared by
 * the files of this command: cmd.c (command parsing and dispatch),
 * session.c (EHLO/MAIL/RCPT and the transaction), message.c (DATA and
 * BDAT into the queue program), queue.c (the queue program),
 * reply.c (replies and errors), auth.c (AUTH), received.c. */
#ifndef SMTP_H
#define SMTP_H

#include <sys/types.h>
#include "buf.h"
#include "data.h"
#include "smtpaddr.h"
#include "str.h"

enum { ROLE_MX, ROLE_SUBMISSION };

enum {
	SMTP_CMD_MAX = 1000,       /* command line, CRLF included (RFC 5321 4.5.3.1.4 allows 512; extensions need more) */
	SMTP_AUTH_LINE_MAX = 12288, /* RFC 4954 4: SASL responses may be longer */
	/* PIPEMAIL_DSN text: one environment string for a queue program
	 * (Linux MAX_ARG_STRLEN is 128 KiB) and under queue-add's
	 * QUEUE_DSN_MAX; 100,000 recipients without DSN parameters fit */
	SMTP_DSN_MAX = 120 * 1024
};

struct opts {
	int role;
	const char *hostname;        /* NULL: conf_me */
	unsigned long long maxsize;  /* SIZE limit in bytes */
	unsigned maxrcpt;
	unsigned maxerrors;
	unsigned maxauthfail;
	unsigned maxjunk;            /* NOOP, RSET, VRFY...: between accepted messages */
	int cmd_timeout;             /* seconds: one command line (RFC 5321 4.5.3.2.7) */
	int data_timeout;            /* seconds: one DATA block (4.5.3.2.6) */
	int data_deadline;           /* seconds: a whole message */
	int session_limit;           /* seconds: the whole session, 0 none */
	int plainauth;               /* AUTH allowed without TLS */
	int anysender;               /* submission: any MAIL FROM after AUTH */
};

/* the queue program (qmail-queue protocol), or lib/qwrite in this
 * process when QMAILQUEUE is unset: queue-add's work without its exec */
struct qwrite;
struct qprog {
	struct qwrite *w;            /* the in-process writer (allocated once) */
	int inproc;                  /* this message goes through w */
	pid_t pid;
	int msgfd, envfd;
	int failed;                  /* a write to it failed */
	struct buf out;
	char space[BUF_SIZE];
};

struct session {
	struct opts o;
	struct buf in, out;
	char inspace[BUF_SIZE], outspace[BUF_SIZE];
	struct str line;
	struct str me;

	/* connection */
	const char *remoteip, *remotehost;
	int relayclient;
	int tls_possible, tls_required, tls;
	struct str tlsproto, tlscipher;
	struct str helo;
	int ehlo, greeted;
	struct str authuser;
	unsigned authfails;
	unsigned errors, msgs, rejected;   /* errors: the session's, for the log */
	unsigned errors_since;       /* error replies since the last accepted message: -e */
	unsigned junk;               /* junk commands since the last accepted message */
	long long session_end;       /* monotonic ms: -T, 0 none */

	/* transaction */
	int mail;
	struct smtpaddr sender;
	struct smtp_mailparams mp;
	unsigned nrcpt;
	unsigned rcpt_over;          /* RCPTs refused for -n in this transaction */
	struct str firstrcpt;
	struct str env;              /* "F<sender>\0" "T<rcpt>\0"... */
	struct str dsn;              /* PIPEMAIL_DSN recipient lines */
	struct smtpaddr addr;        /* scratch for RCPT */
	struct smtp_rcptparams rp;

	/* BDAT in progress */
	int bdat;
	long long bdat_deadline;     /* monotonic ms: -D for the whole message, not per chunk */
	struct smtpdata data;
	struct qprog q;
};

/* reply.c */
void reply(struct session *, const char *text);            /* one whole line, "CODE X.Y.Z text" */
void reply_err(struct session *, const char *text);        /* counts toward the error cap */
void reply_flush(struct session *);
void reply_deadline(struct session *);                     /* -t from now for writes not through reply() */
_Noreturn void session_exit(struct session *, const char *why);
_Noreturn void session_close(struct session *, const char *enh, const char *text, const char *why);   /* 421, then exit */
_Noreturn void session_nomem(struct session *);                 /* 421 4.3.0, then exit */

/* cmd.c */
void cmd_loop(struct session *);
int cmd_getline(struct session *, size_t max);              /* 1 line in s->line, 0 refused (replied) */

/* session.c */
void session_init(struct session *);
void txn_reset(struct session *);
void tls_facts(struct session *);
void smtp_ehlo(struct session *, const char *arg, int ehlo);
void smtp_mail(struct session *, const char *arg, size_t len);
void smtp_rcpt(struct session *, const char *arg, size_t len);
void smtp_starttls(struct session *, const char *arg);

/* message.c */
void smtp_data(struct session *, const char *arg);
void smtp_bdat(struct session *, const char *arg);

/* auth.c */
void smtp_auth(struct session *, const char *arg);
int auth_offered(const struct session *);

/* received.c */
int received_line(struct session *, struct str *out);

/* queue.c */
int qprog_start(struct qprog *, struct session *);   /* 0, a QQ_* code, or -1 */
void qprog_write(struct qprog *, const char *, size_t);
int qprog_finish(struct qprog *, const char *env, size_t envlen, const char *dsn, int timeout_s);  /* exit code, or -1 */
void qprog_abort(struct qprog *);

#endif
