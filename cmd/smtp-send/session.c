/* One SMTP client session (RFC 5321) over one address: greeting, EHLO
 * (HELO fallback), STARTTLS, AUTH, then MAIL/RCPT/DATA, pipelined when
 * the peer offers PIPELINING. Recipient verdicts go into the job. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base64.h"
#include "buf.h"
#include "conn.h"
#include "dotstuff.h"
#include "dsn.h"
#include "log.h"
#include "mime7bit.h"
#include "queue.h"
#include "smtp-send.h"

enum { CONNECT_TIMEOUT = 30000, READ_CHUNK = 65536, TXN_RCPT_MAX = 100 };

struct sess {
	struct job *job;
	struct conn *c;
	char host[DNS_NAME_MAX + 1];
	struct smtpreply r;
	struct smtpext ext;
	struct str line;
	struct str err;       /* why the connection failed */
	int dead;             /* connection unusable */
	int tls;
	int dirty;            /* a transaction was left unfinished: RSET first */
	int sentdata;         /* the message data started going out */
	int lost;             /* the connection failed (closed, an I/O error, a
	                       * timeout) or its replies cannot be read (garbled,
	                       * too long, out of step), not a reply: err says how */
	int dotout;           /* the data's end went out, its reply unread: the
	                       * peer may have taken the message (RFC 1047) */
	int conv;             /* this transaction's data goes 7-bit (conv.c) */
	unsigned long long nconv;   /* messages the peer took made 7-bit */
	int next;             /* the host put the transaction off: the pending
	                       * recipients go to the next address, err says why */
	int unfit;            /* with next: this host cannot take the message */
	char enh[SMTPREPLY_ENH_MAX];   /* err's enhanced code when next */
	unsigned long long msgs, n[4];   /* transactions, recipient verdicts */
	long long opened;     /* monotonic ms */
	struct dns_addr addr;
	char ip[INET6_ADDRSTRLEN];
	struct conn conn;
};

static int
tmo(const struct sess *s, int ms)
{
	return s->job->tcap > 0 && s->job->tcap < ms ? s->job->tcap : ms;
}

/* The connection failed under a command or the data. Returns -1. */
static int
lost(struct sess *s, const char *why)
{
	s->dead = 1;
	s->lost = 1;
	str_copys(&s->err, why);
	return -1;
}

/* Read one whole reply. 0 ok, -1 connection lost/timeout/garbage (s->err set). */
static int
reply(struct sess *s, int ms)
{
	smtpreply_reset(&s->r);
	conn_deadline(s->c, tmo(s, ms));
	for (;;) {
		int g = conn_getline(s->c, &s->line, SMTPREPLY_LINE_MAX), p;
		if (g == BUF_TOOLONG)
			return lost(s, "reply line too long");
		if (g != BUF_LINE)
			return lost(s, g == BUF_EOF ? "connection closed by peer" :
			    errno == ETIMEDOUT ? "timeout waiting for a reply" : "connection lost");
		p = smtpreply_line(&s->r, s->line.s, s->line.len);
		if (p < 0)
			return lost(s, "malformed reply");
		if (p == 1)
			break;
	}
	if (s->r.code == 421)
		s->dead = 1;   /* the peer is closing; no QUIT */
	return 0;
}

/* a write failed (a command into a full buffer, a flush) */
static int
lost_sending(struct sess *s)
{
	return lost(s, errno == ETIMEDOUT ? "timeout sending" : "connection lost while sending");
}

static int
send_flush(struct sess *s, int ms)
{
	conn_deadline(s->c, tmo(s, ms));
	if (conn_flush(s->c) < 0)
		return lost_sending(s);
	return 0;
}

static int
command(struct sess *s, const char *a, const char *b, int ms)
{
	if (conn_puts(s->c, a) < 0 || (b && conn_puts(s->c, b) < 0) || conn_puts(s->c, "\r\n") < 0)
		return lost_sending(s);
	if (send_flush(s, ms) < 0)
		return -1;
	return reply(s, ms);
}

/* rcptctx: the reply answered RCPT (so 550 means 5.1.1, not 5.0.0) */
static void
set_rcpt(struct sess *s, struct rcpt *rc, int status, const struct smtpreply *r, int rcptctx)
{
	rc->status = status;
	/* RFC 3461 5.2.2: a request the peer cannot carry on ends here */
	rc->relayed = status == ST_OK && !(s->ext.flags & EXT_DSN) &&
	    (dsn_rcpt_notify(rc->dsn.s, rc->dsn.len) & DSN_NOTIFY_SUCCESS);
	smtpreply_enhanced(r, rcptctx, rc->enh);
	rc->text.len = 0;
	smtpreply_print(r, &rc->text);
	str_0(&rc->text);
	snprintf(rc->host, sizeof rc->host, "%s", s->host);
}

static int
status_of(int code)
{
	return code >= 200 && code < 300 ? ST_OK : code >= 500 ? ST_PERM : ST_TEMP;
}

/* every recipient of this transaction still pending gets the current
 * (failure) reply's verdict */
static void
settle_reply(struct sess *s)
{
	struct job *j = s->job;
	int st = status_of(s->r.code) == ST_OK ? ST_TEMP : status_of(s->r.code);
	size_t i;
	for (i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].accepted && j->rcpt[i].status == ST_PENDING)
			set_rcpt(s, &j->rcpt[i], st, &s->r, 0);
}

/* the current reply as why the session ended */
static void
err_reply(struct sess *s)
{
	s->err.len = 0;
	smtpreply_print(&s->r, &s->err);
	str_0(&s->err);
}

/* The host put the whole transaction off: a 4xx to MAIL, a 421 before
 * the data was taken. That is the host's trouble, not a verdict on the
 * recipients: they stay pending for the next address (RFC 5321 5.1), and
 * this reply is the reason should none be left. */
static void
refused(struct sess *s)
{
	s->next = 1;
	err_reply(s);
	smtpreply_enhanced(&s->r, 0, s->enh);
}

/* The host cannot take this message: a size over its SIZE, 8-bit data
 * that cannot be made 7-bit without 8BITMIME, a UTF-8 sender without
 * SMTPUTF8. The hosts of a domain can differ: the recipients go to the
 * next address, and fail (enh, text) when none takes it (route.c). */
static void
unfit(struct sess *s, const char *enh, const char *text)
{
	s->next = 1;
	s->unfit = 1;
	str_copys(&s->err, text);
	str_0(&s->err);
	snprintf(s->enh, sizeof s->enh, "%s", enh);
}

static const char no_utf8[] = "SMTPUTF8 address but the peer does not support SMTPUTF8";

/* rc has no ASCII form and this host no SMTPUTF8: it is left pending
 * for the next host, which may offer it (as unfit, above) */
static int
waits(const struct sess *s, const struct rcpt *rc)
{
	return s->job->utf8 && !(s->ext.flags & EXT_SMTPUTF8) && rc->utf8 && !rc->ascii;
}

/* every pending recipient but those waiting for SMTPUTF8 */
static void
settle_rest(struct sess *s, int status, const char *enh, const char *text)
{
	size_t i;
	for (i = 0; i < s->job->nrcpt; i++)
		if (s->job->rcpt[i].status == ST_PENDING && !waits(s, &s->job->rcpt[i]))
			job_settle_one(&s->job->rcpt[i], status, enh, text, s->host);
}

static int
is_4xx(int code)
{
	return code >= 400 && code < 500;
}

static void
quit(struct sess *s)
{
	if (s->dead)
		return;
	if (conn_puts(s->c, "QUIT\r\n") == 0 && send_flush(s, TO_QUIT) == 0)
		reply(s, TO_QUIT);
}

static int
ehlo(struct sess *s)
{
	s->ext.flags = 0;
	s->ext.size = 0;
	if (command(s, "EHLO ", s->job->helo, TO_EHLO) < 0)
		return -1;
	if (s->r.code == 250) {
		smtpreply_ehlo(&s->r, &s->ext);
		return 0;
	}
	/* HELO only for a server that does not know EHLO: it answers 500,
	 * 502, 504 or 550 (RFC 5321 4.1.1.1, 4.3.2). A 4xx is the host's
	 * trouble, as a 4xx greeting is: the next host (5.1), not the same
	 * one without STARTTLS, SIZE and 8BITMIME. Postfix falls back on all
	 * but 421 (smtp_proto.c smtp_helo); that drops opportunistic TLS and
	 * bounces an 8-bit message the next MX host would take. */
	if (s->r.code < 500 || s->tls)
		return -1;
	if (command(s, "HELO ", s->job->helo, TO_EHLO) < 0)
		return -1;
	return s->r.code == 250 ? 0 : -1;
}

static int
auth(struct sess *s)
{
	struct job *j = s->job;
	struct str b = STR_INIT, raw = STR_INIT;
	int ok = -1;
	if (s->ext.flags & EXT_AUTH_PLAIN) {
		if (str_catc(&raw, 0) < 0 || str_cats(&raw, j->user) < 0 || str_catc(&raw, 0) < 0 ||
		    str_cats(&raw, j->pass) < 0 || str_copys(&b, "AUTH PLAIN ") < 0 ||
		    base64_encode(&b, raw.s, raw.len) < 0 || str_0(&b) < 0)
			goto out;
		if (command(s, b.s, NULL, TO_EHLO) < 0)
			goto out;
	} else if (s->ext.flags & EXT_AUTH_LOGIN) {
		if (command(s, "AUTH LOGIN", NULL, TO_EHLO) < 0 || s->r.code != 334)
			goto out;
		if (base64_encode(&b, j->user, strlen(j->user)) < 0 || str_0(&b) < 0 ||
		    command(s, b.s, NULL, TO_EHLO) < 0 || s->r.code != 334)
			goto out;
		b.len = 0;
		if (base64_encode(&b, j->pass, strlen(j->pass)) < 0 || str_0(&b) < 0 ||
		    command(s, b.s, NULL, TO_EHLO) < 0)
			goto out;
	} else {
		str_copys(&s->err, "AUTH PLAIN or LOGIN not offered");
		goto out;
	}
	ok = s->r.code == 235 ? 0 : -1;
out:
	if (raw.s)
		memset(raw.s, 0, raw.cap);
	if (b.s)
		memset(b.s, 0, b.cap);
	str_free(&raw);
	str_free(&b);
	return ok;
}

/* MAIL FROM into the write buffer */
static int
put_mail(struct sess *s)
{
	struct job *j = s->job;
	struct str num = STR_INIT;
	int e = 0;
	int u8 = (s->ext.flags & EXT_SMTPUTF8) != 0;
	/* without SMTPUTF8 the address is its ASCII form (transaction) */
	e |= conn_puts(s->c, "MAIL FROM:<") | conn_puts(s->c, !u8 && j->sender_ascii ? j->sender_ascii : j->sender) |
	    conn_puts(s->c, ">");
	if (s->ext.flags & EXT_SIZE) {
		e |= str_catu(&num, s->conv ? j->convsize : j->wiresize) | conn_puts(s->c, " SIZE=");
		e |= conn_put(s->c, num.s, num.len);
		str_free(&num);
	}
	if (j->eightbit && (s->ext.flags & EXT_8BITMIME))
		e |= conn_puts(s->c, " BODY=8BITMIME");
	/* a UTF-8 address needs it; UTF-8 header fields ask for it where the
	 * peer has it, and go as before (8BITMIME) where it has not: most
	 * 8-bit headers are legacy charsets, not RFC 6532 */
	if (u8 && (j->utf8 || j->hdr8))
		e |= conn_puts(s->c, " SMTPUTF8");
	if ((s->ext.flags & EXT_DSN) && j->dsnmail.len)
		e |= conn_put(s->c, j->dsnmail.s, j->dsnmail.len);
	e |= conn_puts(s->c, "\r\n");
	return e ? lost_sending(s) : 0;
}

/* RCPT parameters for a peer without SMTPUTF8: a UTF-8 ORCPT's
 * characters as "\x{HEX}" (RFC 6533 utf-8-addr-xtext, plain ASCII) */
static int
put_ascii_params(struct sess *s, const char *p, size_t len)
{
	size_t i = 0;
	int e = 0;
	while (i < len && !e) {
		unsigned char c = (unsigned char)p[i];
		size_t w = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, k;   /* valid UTF-8: read_dsn */
		unsigned long cp = w == 1 ? c : c & (0x7fu >> w);
		char hex[16];
		if (w == 1) {
			e |= conn_put(s->c, p + i++, 1);
			continue;
		}
		for (k = 1; k < w && i + k < len; k++)
			cp = cp << 6 | ((unsigned char)p[i + k] & 0x3f);
		snprintf(hex, sizeof hex, "\\x{%lX}", cp);
		e |= conn_puts(s->c, hex);
		i += w;
	}
	return e;
}

static int
put_rcpt(struct sess *s, const struct rcpt *rc)
{
	int e = 0, u8 = (s->ext.flags & EXT_SMTPUTF8) != 0;
	e |= conn_puts(s->c, "RCPT TO:<") | conn_puts(s->c, !u8 && rc->ascii ? rc->ascii : rc->addr) | conn_puts(s->c, ">");
	if ((s->ext.flags & EXT_DSN) && rc->dsn.len)
		e |= u8 ? conn_put(s->c, rc->dsn.s, rc->dsn.len) : put_ascii_params(s, rc->dsn.s, rc->dsn.len);
	e |= conn_puts(s->c, "\r\n");
	return e ? lost_sending(s) : 0;
}

static int
lost_data(struct sess *s)
{
	return lost(s, errno == ETIMEDOUT ? "timeout sending the message" : "connection lost while sending the message");
}

/* A small message as the scan encoded it (j->wire), a block at a
 * time, each under its own deadline as a file's blocks are. */
static int
body_kept(struct sess *s)
{
	struct job *j = s->job;
	size_t off = 0;
	s->dead = 1;   /* as in body() */
	while (off < j->wire.len) {
		size_t n = j->wire.len - off < READ_CHUNK ? j->wire.len - off : READ_CHUNK;
		conn_deadline(s->c, tmo(s, TO_BLOCK));
		if (conn_put(s->c, j->wire.s + off, n) < 0)
			return lost_data(s);
		off += n;
	}
	s->dead = 0;
	return send_flush(s, TO_BLOCK);
}

/* Stream the message: constant memory, CRLF only, dot-stuffed; made
 * 7-bit on the way when s->conv. */
static int
body(struct sess *s)
{
	struct job *j = s->job;
	struct dotstuff d;
	struct str out = STR_INIT, mid = STR_INIT;
	struct mime7bit *cv = NULL;
	char *in;
	off_t off = j->msgoff;
	unsigned long long left = j->size;
	int ret = -1;
	if (j->wireok && !s->conv)
		return body_kept(s);
	in = malloc(READ_CHUNK);
	if (s->conv && (cv = malloc(sizeof *cv)))
		mime7bit_init(cv, j->plan);
	/* any failure from here on must drop the connection: the peer is
	 * in DATA and must never see a truncated message end */
	s->dead = 1;
	if (!in || (s->conv && !cv)) {
		str_copys(&s->err, "out of memory");
		goto out;
	}
	dotstuff_init(&d);
	for (;;) {
		ssize_t r = message_read(j, in, READ_CHUNK, &off, &left);
		if (r < 0) {
			str_copys(&s->err, "unable to read the message");
			goto out;
		}
		out.len = 0;
		if (cv ? conv_block(cv, &d, in, (size_t)r, &mid, &out) < 0 :
		    r == 0 ? dotstuff_end(&d, &out) < 0 : dotstuff_put(&d, in, (size_t)r, &out) < 0) {
			str_copys(&s->err, "out of memory");
			goto out;
		}
		conn_deadline(s->c, tmo(s, TO_BLOCK));
		if (conn_put(s->c, out.s, out.len) < 0) {
			lost_data(s);
			goto out;
		}
		if (r == 0)
			break;
	}
	s->dead = 0;
	ret = send_flush(s, TO_BLOCK);
out:
	free(in);
	if (cv)
		mime7bit_free(cv);
	free(cv);
	str_free(&out);
	str_free(&mid);
	return ret;
}

static void
fail_all(struct sess *s, int status, const char *enh, const char *text)
{
	job_settle(s->job, status, enh, text, s->host);
}

/* the RCPT reply for rc: accepted (ST_PENDING until the data is
 * accepted), left for the next transaction, or its temporary/permanent
 * verdict. acc: recipients this transaction has accepted so far. */
static size_t
rcpt_reply(struct sess *s, struct rcpt *rc, int mailok, size_t acc)
{
	int code = s->r.code;
	rc->accepted = 0;
	if (!mailok)
		return 0;
	if (code == 421) {
		refused(s);   /* about the host, not this recipient */
		return 0;
	}
	if (code >= 200 && code < 300) {
		rc->accepted = 1;
		return 1;
	}
	/* RFC 5321 4.5.3.1.10: 552 is RFC 821's "too many recipients",
	 * to be taken as 452; after an accepted one, a 452 is the peer's
	 * limit per transaction: the rest go in the next transaction */
	if (code == 552 || code == 452) {
		if (acc > 0)
			return 0;
		set_rcpt(s, rc, ST_TEMP, &s->r, 1);
		return 0;
	}
	set_rcpt(s, rc, status_of(code), &s->r, 1);
	return 0;
}

/* Has the peer sent something no command asked for yet (an extra line
 * after EHLO's, two replies to one command)? Then each reply read in this
 * transaction may answer the command before the one it was read for (a
 * recipient refused with another's 550, one the peer took bounced): its
 * verdicts are undone and the connection dropped, all temporary. */
static void
undo_txn(struct sess *s)
{
	struct job *j = s->job;
	size_t i;
	for (i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].intxn) {
			j->rcpt[i].status = ST_PENDING;
			j->rcpt[i].accepted = 0;
		}
}

static int
out_of_step(struct sess *s, int again)
{
	int u = again ? conn_unasked_again(s->c) : conn_unasked(s->c);
	if (u == CONN_QUIET)
		return 0;
	/* a close with nothing unread says no reply came extra: what was
	 * read stands, and the connection is lost */
	if (u == CONN_CLOSED)
		return lost(s, "connection closed by peer") < 0;
	undo_txn(s);
	lost(s, "the peer sent a reply before the command it answers");
	str_0(&s->err);
	return 1;
}

/* The transaction, after a usable EHLO. Settles what it can; the caller
 * settles whatever is still pending when the connection dies. */
static void
transaction(struct sess *s)
{
	struct job *j = s->job;
	int pipe = (s->ext.flags & EXT_PIPELINING) != 0;
	size_t i, n, accepted = 0;
	int mailok, datago;

	/* -1: in this transaction; at most TXN_RCPT_MAX of them (RFC 5321
	 * 4.5.3.1.8: servers take 100), the rest in the next one */
	for (i = 0, n = 0; i < j->nrcpt; i++) {
		int in = j->rcpt[i].status == ST_PENDING && n < TXN_RCPT_MAX && !waits(s, &j->rcpt[i]);
		j->rcpt[i].accepted = in ? -1 : 0;
		n += (size_t)in;
	}
	s->sentdata = 0;
	s->conv = 0;
	if (j->utf8 && !(s->ext.flags & EXT_SMTPUTF8)) {
		/* RFC 6531 3.2: what has an ASCII form goes in it; a recipient
		 * without one was left out above: it waits for a host with
		 * SMTPUTF8 (session_deliver), not every recipient with it */
		if (j->sender_utf8 && !j->sender_ascii) {
			unfit(s, "5.6.7", no_utf8);
			return;
		}
		if (n == 0)
			return;
	}
	if (j->eightbit && !(s->ext.flags & EXT_8BITMIME)) {
		/* RFC 6152 3: converted to 7-bit MIME, or returned */
		if (!j->conv) {
			int r = conv_plan(j);
			if (r < 0) {
				fail_all(s, ST_TEMP, "4.3.0", "unable to convert the message to 7-bit");
				return;
			}
			j->conv = r ? r : -1;
		}
		if (j->conv < 0) {
			unfit(s, "5.6.3", "8-bit message that cannot be made 7-bit, but the peer does not support 8BITMIME");
			return;
		}
		s->conv = j->conv == 1;
	}
	if ((s->ext.flags & EXT_SIZE) && s->ext.size && (s->conv ? j->convsize : j->wiresize) > s->ext.size) {
		unfit(s, "5.3.4", "message size exceeds the peer's SIZE limit");
		return;
	}

	for (i = 0; i < j->nrcpt; i++)
		j->rcpt[i].intxn = j->rcpt[i].accepted != 0;
	/* checked before each command whose reply is awaited alone, and
	 * after a pipelined group's last reply. Here, first in the
	 * transaction, a reused connection was checked a moment ago
	 * (session_reusable): that answer stands when nothing came or went
	 * since, one poll(2) a message fewer */
	if (out_of_step(s, 1))
		return;
	s->dirty = 1;
	if (pipe) {
		/* RFC 2920: MAIL, every RCPT and DATA in one write. A group
		 * past the buffer is written as it fills: under this deadline,
		 * not the last reply's (a cached connection's may be long past) */
		conn_deadline(s->c, tmo(s, TO_MAIL));
		if (put_mail(s) < 0)
			return;
		for (i = 0; i < j->nrcpt; i++)
			if (j->rcpt[i].accepted < 0 && put_rcpt(s, &j->rcpt[i]) < 0)
				return;
		/* DATA may be what fills the buffer: its flush failing is a
		 * loss as any other before the data */
		if (conn_puts(s->c, "DATA\r\n") < 0) {
			lost_sending(s);
			return;
		}
		if (send_flush(s, TO_MAIL) < 0)
			return;
		if (reply(s, TO_MAIL) < 0)
			return;
		mailok = s->r.code >= 200 && s->r.code < 300;
		if (!mailok && is_4xx(s->r.code))
			refused(s);
		else if (!mailok)
			settle_reply(s);
		for (i = 0; i < j->nrcpt && !s->dead; i++) {
			if (j->rcpt[i].accepted >= 0)
				continue;
			if (reply(s, TO_RCPT) < 0)
				return;
			accepted += rcpt_reply(s, &j->rcpt[i], mailok, accepted);
		}
		/* s->dead here: a 421 ended the group early */
		if (!s->dead && reply(s, TO_DATA) < 0)
			return;
		if (s->r.code == 421) {
			/* the peer closes, at RCPT as at DATA: out_of_step cannot
			 * tell an extra reply before it from the close, so the
			 * verdicts read with it are undone (one could be another
			 * recipient's 550), and the transaction goes on elsewhere */
			undo_txn(s);
			refused(s);
			return;
		}
		if (out_of_step(s, 0))
			return;
	} else {
		if (put_mail(s) < 0 || send_flush(s, TO_MAIL) < 0 || reply(s, TO_MAIL) < 0)
			return;
		mailok = s->r.code >= 200 && s->r.code < 300;
		if (!mailok) {
			if (is_4xx(s->r.code))
				refused(s);
			else
				settle_reply(s);
			return;
		}
		for (i = 0; i < j->nrcpt && !s->dead; i++) {
			if (j->rcpt[i].accepted >= 0)
				continue;
			if (out_of_step(s, 0) || put_rcpt(s, &j->rcpt[i]) < 0 || send_flush(s, TO_RCPT) < 0 ||
			    reply(s, TO_RCPT) < 0)
				return;
			accepted += rcpt_reply(s, &j->rcpt[i], 1, accepted);
		}
		if (accepted == 0 || s->dead)
			return;
		if (out_of_step(s, 0) || command(s, "DATA", NULL, TO_DATA) < 0)
			return;
	}
	datago = s->r.code == 354;
	if (datago && (accepted == 0 || !mailok)) {
		/* RFC 2920 3.1: DATA went through without a recipient; end it empty */
		if (conn_puts(s->c, ".\r\n") < 0 || send_flush(s, TO_BLOCK) < 0)
			return;
		if (reply(s, TO_DOT) == 0)
			s->dirty = 0;
		return;
	}
	if (accepted == 0)
		return;
	if (!datago) {
		if (s->r.code == 421)
			refused(s);
		else
			settle_reply(s);
		return;
	}
	s->sentdata = 1;
	if (body(s) < 0)
		return;
	s->dotout = 1;
	if (reply(s, TO_DOT) < 0)
		return;
	s->dotout = 0;
	if (s->r.code == 421) {
		refused(s);   /* not taken: nothing to duplicate */
		return;
	}
	s->dirty = 0;
	s->nconv += s->conv && status_of(s->r.code) == ST_OK;
	for (i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].accepted > 0)
			set_rcpt(s, &j->rcpt[i], status_of(s->r.code), &s->r, 0);
}

static void
fmt_ip(const struct dns_addr *a, char *out, size_t len)
{
	const void *p = a->sa.ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)&a->sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)&a->sa)->sin_addr;
	if (!inet_ntop(a->sa.ss_family, p, out, (socklen_t)len))
		memcpy(out, "?", 2);
}

/* a session line's start: who, and how it ended */
static void
log_session(struct logline *l, const struct sess *s, const char *result)
{
	log_begin(l, "session");
	log_kv(l, "host", s->host);
	log_kv(l, "ip", s->ip);
	log_kv(l, "tls", s->tls ? "yes" : "no");
	log_kv(l, "result", result);
}

/* verdicts: the recipients this host settled, ok, temp and perm */
static void
log_counts(struct logline *l, const unsigned long long n[4])
{
	log_kvu(l, "ok", n[ST_OK]);
	log_kvu(l, "temp", n[ST_TEMP]);
	log_kvu(l, "perm", n[ST_PERM]);
}

/* n: verdicts this host gave before the job moved on, NULL or none: no counts */
static void
log_next(const struct sess *s, const char *reason, const unsigned long long n[4])
{
	struct logline l;
	log_session(&l, s, "next");
	log_kv(&l, "reason", reason);
	if (n && n[ST_OK] + n[ST_TEMP] + n[ST_PERM])
		log_counts(&l, n);
	log_end(&l);
}

static int
next(struct sess *s, struct str *lasterr, char lastenh[SMTPREPLY_ENH_MAX], const char *enh, int fromreply)
{
	lasterr->len = 0;
	if (fromreply && s->r.code) {
		smtpreply_print(&s->r, lasterr);
		smtpreply_enhanced(&s->r, 0, lastenh);
	} else {
		str_cats(lasterr, s->err.s ? s->err.s : "failed");
		memcpy(lastenh, enh, strlen(enh) + 1);
	}
	str_0(lasterr);
	quit(s);
	return ATT_NEXT;
}

int
session_open(struct job *j, const char *host, const struct dns_addr *a, int tlsmode,
    struct str *lasterr, char lastenh[SMTPREPLY_ENH_MAX], struct sess **out)
{
	struct sess *s = calloc(1, sizeof *s);
	int ret = ATT_DONE;

	*out = NULL;
	if (!s) {
		str_copys(lasterr, "out of memory");
		str_0(lasterr);
		memcpy(lastenh, "4.3.0", 6);
		return ATT_NEXT;
	}
	s->job = j;
	s->c = &s->conn;
	s->c->fd = -1;
	snprintf(s->host, sizeof s->host, "%s", host);
	s->line = (struct str)STR_INIT;
	s->err = (struct str)STR_INIT;
	s->opened = buf_now_ms();
	s->addr = *a;
	fmt_ip(a, s->ip, sizeof s->ip);
	smtpreply_init(&s->r);
	if (conn_open(s->c, (const struct sockaddr *)&a->sa, a->len, tmo(s, CONNECT_TIMEOUT)) < 0) {
		str_copys(&s->err, QUEUE_TEXT_NOCONNECT);
		str_cats(&s->err, strerror(errno));
		str_0(&s->err);
		s->dead = 1;
		ret = next(s, lasterr, lastenh, "4.4.1", 0);
		goto out;
	}
	/* Any greeting but 220, 5xx too, is this host's refusal, not the
	 * recipients': the next host (RFC 5321 5.1: each address until a
	 * delivery attempt succeeds; 3.1: a 554 greeting says "no SMTP
	 * service here"), and when every host refuses the recipients are
	 * deferred (4.x.x), as Postfix does by default
	 * (smtp_skip_5xx_greeting = yes; "no" bounces, which its manual
	 * says "appears to contradict RFC 2821"). qmail-remote bounces. */
	if (reply(s, TO_GREETING) < 0 || s->r.code != 220) {
		ret = next(s, lasterr, lastenh, "4.4.2", 1);
		goto out;
	}
	if (ehlo(s) < 0) {
		ret = next(s, lasterr, lastenh, "4.4.2", 1);
		goto out;
	}
	if (tlsmode != TLS_MODE_NO && (s->ext.flags & EXT_STARTTLS)) {
		struct tls_config *cfg = job_tlsconfig(j, tlsmode == TLS_MODE_VERIFY, &s->err);
		if (!cfg) {
			str_0(&s->err);
			ret = next(s, lasterr, lastenh, "4.7.0", 0);
			goto out;
		}
		if (command(s, "STARTTLS", NULL, TO_EHLO) < 0 || s->dead) {
			ret = next(s, lasterr, lastenh, "4.4.2", 1);
			goto out;
		}
		if (s->r.code == 220) {
			/* anything after the 220 came before TLS: an injection (I6) */
			conn_discard(s->c);
			if (conn_starttls(s->c, cfg, host, &s->err) < 0) {
				str_0(&s->err);
				s->dead = 1;
				ret = next(s, lasterr, lastenh, "4.7.0", 0);
				if (tlsmode == TLS_MODE_TRY)
					ret = ATT_PLAIN;
				goto out;
			}
			s->tls = 1;
			if (ehlo(s) < 0) {
				ret = next(s, lasterr, lastenh, "4.4.2", 1);
				goto out;
			}
		}
	}
	if (!s->tls && tlsmode >= TLS_MODE_MUST) {
		str_copys(&s->err, "TLS is required but the peer offers no STARTTLS");
		str_0(&s->err);
		ret = next(s, lasterr, lastenh, "4.7.4", 0);
		goto out;
	}
	if (j->user) {
		if (!s->tls) {
			str_copys(&s->err, "refusing to AUTH without TLS");
			str_0(&s->err);
			ret = next(s, lasterr, lastenh, "4.7.0", 0);
			goto out;
		}
		if (auth(s) < 0) {
			str_0(&s->err);
			ret = next(s, lasterr, lastenh, "4.7.0", s->err.len == 0);
			goto out;
		}
	}
	*out = s;
	return ATT_DONE;
out:
	s->dead = 1;
	log_next(s, lasterr->s, NULL);
	session_close(s);
	return ret;
}

/* A cached connection that died before the data went out (a 421 at the
 * peer's idle timeout read as MAIL's reply, RSET into a closed socket):
 * what it settled is undone, for a fresh connection to decide. */
static int
stale(struct job *j, const unsigned char *was)
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++)
		if (was[i] == ST_PENDING)
			j->rcpt[i].status = ST_PENDING;
	return 1;
}

/* the verdicts this session gave in j (those of its host), added to n: not
 * those an earlier host gave */
static void
count_here(const struct job *j, unsigned long long n[4])
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].here && j->rcpt[i].status != ST_PENDING)
			n[j->rcpt[i].status & 3]++;
}

static size_t
pending_of(const struct job *j)
{
	size_t i, n = 0;
	for (i = 0; i < j->nrcpt; i++)
		n += j->rcpt[i].status == ST_PENDING;
	return n;
}

int
session_deliver(struct sess *s, struct job *j, int reused, struct str *lasterr, char lastenh[SMTPREPLY_ENH_MAX])
{
	size_t i, rounds, was_pending = 0, first = pending_of(j);
	unsigned char *was = NULL;
	unsigned long long moved[4] = { 0 };   /* verdicts here when the job moves on */
	s->job = j;
	s->err.len = 0;
	s->sentdata = 0;
	s->dotout = 0;
	s->next = 0;
	s->unfit = 0;
	for (i = 0; i < j->nrcpt; i++)
		j->rcpt[i].here = j->rcpt[i].status == ST_PENDING;
	if (reused) {
		if (!(was = malloc(j->nrcpt ? j->nrcpt : 1)))
			return ATT_STALE;
		for (i = 0; i < j->nrcpt; i++)
			was[i] = (unsigned char)j->rcpt[i].status;
	}
	/* each transaction settles at least one recipient, or none is left
	 * pending (a recipient is put off only after another's 250) */
	for (rounds = 0; !s->dead && !s->next && rounds <= j->nrcpt; rounds++) {
		size_t pending = pending_of(j);
		if (!pending)
			break;
		if (rounds > 0 && pending == was_pending)
			break;
		was_pending = pending;
		if (s->dirty) {
			/* refused: the reply is why, not an earlier job's err */
			if (command(s, "RSET", NULL, TO_MAIL) == 0 && s->r.code != 250) {
				s->dead = 1;
				err_reply(s);
			}
			s->dirty = 0;
		}
		if (!s->dead)
			transaction(s);
		if (s->dead && reused && !s->sentdata && rounds == 0) {
			stale(j, was);
			free(was);
			return ATT_STALE;
		}
	}
	free(was);
	/* a 421 that ended the session anywhere else (to RSET, to an empty
	 * DATA) is the host's going away too; not one cut off or garbled
	 * after the data's end went out ("421-" and the close): that is no
	 * reply, and the host may have the message */
	if (s->dead && !s->next && !s->dotout && s->r.code == 421)
		refused(s);
	/* so is a connection lost before the data's end went out: the host
	 * has no message (RFC 5321 3.8: a transaction cut off is as if
	 * RSET), and the next one is tried, as Postfix does. After the end
	 * went out the host may have taken it (RFC 1047): another host now
	 * would make a second copy, so its recipients are deferred. */
	if (s->dead && !s->next && s->lost && !s->dotout) {
		s->next = 1;
		memcpy(s->enh, "4.4.2", sizeof "4.4.2");
	}
	/* every recipient had its verdict before the host went: no other
	 * host is wanted (a connection for nothing) */
	if (s->next && pending_of(j) == 0)
		s->next = 0;
	if (!s->next) {
		if (s->dead)
			settle_rest(s, ST_TEMP, "4.4.2", s->err.len ? s->err.s : "connection lost");
		settle_rest(s, ST_TEMP, "4.5.3", "too many recipients for the peer");
		/* a session that only passed recipients on sent no message */
		if (pending_of(j) < first) {
			s->msgs++;
			count_here(j, s->n);
		}
		/* left: recipients waiting for a host with SMTPUTF8 */
		if (pending_of(j) > 0)
			unfit(s, "5.6.7", no_utf8);
	} else {
		/* the session's done line may never come (no message taken) */
		count_here(j, moved);
	}
	if (s->next) {
		str_copyb(lasterr, s->err.s, s->err.len);
		str_0(lasterr);
		memcpy(lastenh, s->enh, sizeof s->enh);
		log_next(s, lasterr->s, moved);
		return s->unfit ? ATT_UNFIT : ATT_NEXT;
	}
	return ATT_DONE;
}

void
session_peer(const struct sess *s, char *host, size_t hostlen, struct dns_addr *a)
{
	snprintf(host, hostlen, "%s", s->host);
	*a = s->addr;
}

int
session_reusable(struct sess *s, int max_age_ms)
{
	/* anything the peer said unasked (a 421 at its idle timeout, a
	 * second reply to the dot) would be read as the next command's
	 * reply, every verdict after it one behind */
	return !s->dead && buf_now_ms() - s->opened < max_age_ms && !conn_unasked(s->c);
}

void
session_close(struct sess *s)
{
	if (s->msgs) {
		struct logline l;
		log_session(&l, s, "done");
		log_counts(&l, s->n);
		if (s->msgs > 1)
			log_kvu(&l, "msgs", s->msgs);
		/* messages the peer took made 7-bit (no 8BITMIME) */
		if (s->nconv)
			log_kv(&l, "conv", "7bit");
		if (s->nconv && s->msgs > 1)
			log_kvu(&l, "convmsgs", s->nconv);
		log_end(&l);
	}
	quit(s);
	if (s->c->fd >= 0) {
		conn_deadline(s->c, 2000);
		conn_close(s->c);
	}
	smtpreply_free(&s->r);
	str_free(&s->line);
	str_free(&s->err);
	free(s);
}
