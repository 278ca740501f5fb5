/* Delivery status notifications (RFC 3461 parameters, RFC 3464 reports).
 *
 * Parameters travel from smtp-recv to the queue in PIPEMAIL_DSN: a first
 * line "RET=FULL|HDRS ENVID=<xtext>", then one line per envelope
 * recipient "NOTIFY=<list> ORCPT=<addr-type;xtext>"; any part may be
 * absent. Parsing is lenient: an unknown word or a missing line means
 * "not given", never an error, since a bounce must still go out. */
#ifndef DSN_H
#define DSN_H

#include <stddef.h>
#include "str.h"

enum { DSN_NOTIFY_SUCCESS = 1, DSN_NOTIFY_FAILURE = 2, DSN_NOTIFY_DELAY = 4, DSN_NOTIFY_NEVER = 8 };
enum { DSN_RET_NONE = 0, DSN_RET_FULL = 1, DSN_RET_HDRS = 2 };
enum { DSN_FULL_MAX = 256 * 1024 };   /* RET not given: whole message up to this size */

struct dsn_rcpt {
	unsigned int notify;   /* 0: not given (then FAILURE and DELAY apply) */
	struct str orcpt;      /* as given, xtext-encoded; empty: none */
};
struct dsn_params {
	int ret;
	struct str envid;      /* xtext-encoded; empty: none */
	size_t n;
	struct dsn_rcpt *r;
};
#define DSN_PARAMS_INIT { 0, STR_INIT, 0, NULL }

/* 0 ok, -1 ENOMEM. text may be NULL. Always yields n recipients. */
int dsn_params_parse(struct dsn_params *, const char *text, size_t nrcpt);
void dsn_params_free(struct dsn_params *);
/* The NOTIFY bits of one recipient's parameters ("NOTIFY=... ORCPT=...",
 * keywords in any case, as dsn_params_parse reads them); 0 not given. */
unsigned int dsn_rcpt_notify(const char *s, size_t len);
/* Does recipient i want a notice of this kind (DSN_NOTIFY_FAILURE/DELAY)? */
int dsn_wants(const struct dsn_params *, size_t i, unsigned int kind);
/* PIPEMAIL_DSN for a subset of the recipients (first line + their lines). */
int dsn_params_subset(const char *text, const size_t *idx, size_t n, struct str *out);
/* PIPEMAIL_DSN for a local forward of recipient idx (address rcpt) to n
 * addresses (RFC 3461 6.2.7): RET and ENVID as they were; for each of
 * the n, the recipient's NOTIFY (without SUCCESS unless keep_success: a
 * forward to several, or beside a delivery here, reports success itself;
 * NEVER if nothing is left) and its ORCPT, or "rfc822;rcpt" when it had
 * none and rcpt is ASCII without control bytes (xtext: a quoted local
 * part's blank is "+20"; RFC 3461 4.2). 0, or -1 ENOMEM. */
int dsn_params_forward(const char *text, size_t idx, const char *rcpt, size_t n, int keep_success,
    struct str *out);
/* xtext (RFC 3461 §4) decoding; undecodable "+XX" left as is, control bytes dropped. */
int dsn_xtext_decode(const char *s, size_t len, struct str *out);
/* xtext encoding, appended to out: '+', '=' and bytes outside '!'..'~' as
 * "+XX". 0 ok, -1 ENOMEM. */
int dsn_xtext_encode(struct str *out, const char *s, size_t len);

struct dsn_report_rcpt {
	const char *rcpt;        /* final recipient */
	const char *orcpt;       /* xtext "rfc822;addr" or NULL */
	const char *action;      /* "failed" or "delayed" */
	const char *status;      /* enhanced code, e.g. "5.1.1" */
	const char *remote;      /* remote MTA host or NULL */
	const char *diag;        /* last reply text or NULL */
	unsigned long long last; /* last attempt (unix seconds), 0 none */
};
struct dsn_report {
	const char *me;          /* reporting MTA */
	const char *to;          /* who gets the report */
	const char *envid;       /* xtext or NULL */
	const char *id;          /* queue id, for the boundary and (with now and
	                          * our pid, as a message may get several
	                          * reports) the Message-ID */
	unsigned long long arrival, now;
	unsigned long long until; /* retries end (unix seconds), for "delayed"
	                           * recipients' Will-Retry-Until; 0 unknown */
	const struct dsn_report_rcpt *r;
	size_t n;
	int ret;                 /* DSN_RET_* */
	const char *orig;        /* original message */
	size_t origlen;
};
/* A whole multipart/report message (LF line ends). 0 ok, -1 ENOMEM. */
int dsn_report_make(struct str *out, const struct dsn_report *);

#endif
