/* RFC 5321 envelope syntax: the reverse-path / forward-path of MAIL and
 * RCPT (with RFC 6531 SMTPUTF8 mailboxes) and their ESMTP parameters
 * (SIZE, BODY, SMTPUTF8, AUTH, RET, ENVID, NOTIFY, ORCPT).
 *
 * Byte-level state machines over untrusted input: lengths are capped,
 * UTF-8 is checked for well-formedness, nothing is trusted to be
 * NUL-terminated. The resulting address is what goes into the queue
 * envelope: "local@domain", source routes dropped, a quoted local part
 * unquoted when it is a plain dot-string. */
#ifndef SMTPADDR_H
#define SMTPADDR_H

#include <stddef.h>
#include "str.h"

enum {
	SMTPADDR_LOCAL_MAX = 128,    /* RFC says 64; real VERP/SRS senders exceed it */
	SMTPADDR_DOMAIN_MAX = 255,
	SMTPADDR_PATH_MAX = 320,     /* the whole mailbox */
	SMTPADDR_ENVID_MAX = 100,    /* RFC 3461 */
	SMTPADDR_ORCPT_MAX = 500     /* RFC 3461: 500 including "ORCPT=" */
};

/* results; SMTPADDR_OK is 0, errors are negative */
enum {
	SMTPADDR_OK = 0,
	SMTPADDR_SYNTAX = -1,        /* malformed path */
	SMTPADDR_TOOLONG = -2,       /* a part over its limit */
	SMTPADDR_8BIT = -3,          /* non-ASCII without SMTPUTF8 */
	SMTPADDR_NOMEM = -4,
	SMTPADDR_PARAM_SYNTAX = -5,  /* malformed parameter or value */
	SMTPADDR_PARAM_UNKNOWN = -6, /* parameter not supported */
	SMTPADDR_PARAM_DUP = -7      /* parameter given twice */
};

/* smtpaddr_path flags */
enum {
	SMTPADDR_NULLOK = 1,     /* "<>" allowed (MAIL) */
	SMTPADDR_UTF8 = 2,       /* SMTPUTF8 in effect: UTF-8 local parts and domains */
	SMTPADDR_NODOMAIN = 4    /* "<postmaster>" allowed (RCPT) */
};

struct smtpaddr {
	struct str addr;   /* NUL-terminated; empty for "<>" */
	size_t at;         /* index of the '@' in addr, or addr.len when there is none */
	int quoted;        /* the local part stays a quoted-string */
	int utf8;          /* addr holds non-ASCII bytes */
};

/* Parse "<path>" at the start of s[0..len). On SMTPADDR_OK, *used is the
 * number of bytes consumed (the closing '>'). */
int smtpaddr_path(const char *s, size_t len, int flags, struct smtpaddr *out, size_t *used);
void smtpaddr_free(struct smtpaddr *);

/* 1 if the local part (addr[0..at)) contains a routing character that
 * some MTA might act on: '@' '%' '!' (open-relay vectors), or a quote. */
int smtpaddr_local_routing(const struct smtpaddr *);

enum { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };
enum { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };
enum { SMTP_NOTIFY_NEVER = 1, SMTP_NOTIFY_SUCCESS = 2, SMTP_NOTIFY_FAILURE = 4, SMTP_NOTIFY_DELAY = 8 };

struct smtp_mailparams {
	int has_size;
	unsigned long long size;
	int body;                /* SMTP_BODY_* */
	int smtputf8;
	int ret;                 /* SMTP_RET_* */
	struct str envid;        /* xtext as given, empty if none */
	int has_auth;            /* AUTH=<mailbox> (RFC 4954): checked, not used */
};

struct smtp_rcptparams {
	unsigned notify;         /* SMTP_NOTIFY_* bits, 0 if absent */
	struct str orcpt;        /* "addr-type;xtext" as given, empty if none */
};

/* Parse the parameters after the path: s[0..len) is empty or starts with
 * a space. utf8: SMTPUTF8 in effect (ORCPT may carry utf-8-addr-xtext). */
int smtpaddr_mail_params(const char *s, size_t len, struct smtp_mailparams *);
/* A NOTIFY value: NEVER, or a non-empty subset of SUCCESS, FAILURE, DELAY,
 * comma-separated, each once, any case. SMTPADDR_OK with the SMTP_NOTIFY_*
 * bits in *out, else SMTPADDR_PARAM_SYNTAX. */
int smtpaddr_notify(const char *v, size_t len, unsigned *out);
/* RFC 5322 atext, ASCII only: letters, digits and !#$%&'*+-/=?^_`{|}~ */
int smtpaddr_atext(unsigned char c);
/* "NOTIFY=" and the names of the bits, in the order NEVER, SUCCESS,
 * FAILURE, DELAY, appended to out. 0 ok, -1 ENOMEM. */
int smtpaddr_notify_fmt(struct str *out, unsigned bits);
int smtpaddr_rcpt_params(const char *s, size_t len, int utf8, struct smtp_rcptparams *);
void smtpaddr_mail_params_free(struct smtp_mailparams *);
void smtpaddr_rcpt_params_free(struct smtp_rcptparams *);

/* xtext (RFC 3461): printable ASCII but '+' and '=', and "+HH" escapes.
 * 1 valid, 0 not. */
int smtpaddr_xtext_ok(const char *s, size_t len);

/* 1 when s[0..len) is exactly one address literal (RFC 5321 4.1.3:
 * "[IPv4]" or "[IPv6:...]"), 0 not. */
int smtpaddr_literal_ok(const char *s, size_t len);

/* 1 when a[0..len) is exactly one RFC 5321 Mailbox: a Dot-string or a
 * Quoted-string local part, '@', a Domain or an address literal, UTF-8
 * allowed (RFC 6531), within the limits above; 0 not ("a@@x", "a@x..y",
 * "@x", "a@" are not). What sendmail takes for an envelope address. */
int smtpaddr_mailbox_ok(const char *a, size_t len);

/* Well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
 * 1 valid, 0 not. */
int smtpaddr_utf8_ok(const char *s, size_t len);

/* An envelope address as one field of a blank-separated line (smtp-send's
 * batch lines and result lines, read by queue-run). A field normally ends
 * at the next blank; one that starts with a quoted local part ("a b"@x,
 * RFC 5321 4.1.2 Quoted-string: qtextSMTP, quoted-pairSMTP, UTF-8 bytes)
 * runs past it to its closing DQUOTE first. */

/* The length of the field at s[0..len): to the first blank, or past a
 * leading well-formed quoted string and then to the first blank. */
size_t smtpaddr_field(const char *s, size_t len);
/* 1 when a[0..len) may go on such a line and on the wire as it is:
 * non-empty; no control, blank, DEL, '<', '>', '"' or '\' but inside a
 * leading quoted string, which ends the local part ('@' or the end
 * follows it). Then smtpaddr_field(a, len) == len. 0 not. */
int smtpaddr_field_ok(const char *a, size_t len);
/* a[0..len) appended to out as one field: as it is when smtpaddr_field_ok,
 * else with each blank, control, DEL and '"' byte as '?' (so that it
 * still is one field). 0 ok, -1 ENOMEM. */
int smtpaddr_field_put(struct str *out, const char *a, size_t len);

/* Order of mailboxes: the local part exactly (RFC 5321 2.4: only the
 * receiving host may fold its case), the domain in any case. 0 when a and
 * b name the same mailbox. */
int smtpaddr_cmp(const char *a, const char *b);

#endif
