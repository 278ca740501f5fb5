/* DATA and BDAT: the message goes through the data state machine (data.c)
 * straight into the queue program's pipe, never whole in memory. The
 * reply comes only after the queue program has exited. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include "exitcode.h"
#include "log.h"
#include "qwrite.h"
#include "scan.h"
#include "smtp.h"

/* NULL when a message may begin, else the reply that refuses it */
static const char *
txn_ready(struct session *s, int bdat)
{
	if (!s->mail)
		return "503 5.5.1 Need MAIL command";
	if (s->nrcpt == 0)
		return "554 5.5.1 No valid recipients";
	if (s->bdat && !bdat)
		return "503 5.5.1 DATA after BDAT";
	return NULL;
}

/* A temporary failure of the queue: no room (53) is 452 4.3.1, as RFC
 * 3463 has it for insufficient storage, at the start as at the end. */
static const char *
queue_temp(int code, const char *otherwise)
{
	return code == QQ_TEMP_WRITE ? "452 4.3.1 Insufficient system storage" : otherwise;
}

/* Start the queue program and write the Received: line: 0, or the
 * reply that refuses the message. */
static const char *
msg_begin(struct session *s)
{
	struct str r = STR_INIT;
	int code = qprog_start(&s->q, s);
	if (code != 0)
		return queue_temp(code, "451 4.3.0 Unable to start the queue");
	if (received_line(s, &r) < 0) {
		str_free(&r);
		qprog_abort(&s->q);
		return "451 4.3.0 Out of memory";
	}
	qprog_write(&s->q, r.s, r.len);
	str_free(&r);
	return NULL;
}

/* what follows the recipients on a message line: rcpts_more, size,
 * result, id and the reply (under 200 bytes) */
enum { RCPT_LOG_ROOM = 256 };

static void
log_message(struct session *s, const char *result, const char *code, const char *id)
{
	struct logline l;
	const char *p = s->env.s, *end = s->env.s + s->env.len;
	unsigned long long more;
	log_begin(&l, "message");
	log_kv(&l, "ip", s->remoteip);
	log_kvb(&l, "helo", s->helo.s, s->helo.len);
	log_kv(&l, "tls", s->tls ? (s->tlsproto.len ? s->tlsproto.s : "yes") : "no");
	if (s->authuser.len)
		log_kvb(&l, "auth", s->authuser.s, s->authuser.len);
	log_kvb(&l, "from", s->sender.addr.s, s->sender.addr.len);
	log_kvu(&l, "nrcpt", s->nrcpt);
	/* the envelope: F<sender>\0 then T<rcpt>\0 ...; recipients while
	 * the line keeps room for the rest (up to 100 recipients of 256
	 * bytes would be 30 KB, far over LOG_LINE_MAX), then how many not */
	p += strlen(p) + 1;
	while (p < end && *p == 'T' && log_kv_room(&l, "rcpt", p + 1, RCPT_LOG_ROOM) == 0)
		p += strlen(p) + 1;
	for (more = 0; p < end && *p == 'T'; p += strlen(p) + 1)
		more++;
	if (more)
		log_kvu(&l, "rcpts_more", more);
	log_kvu(&l, "size", s->data.size);
	log_kv(&l, "result", result);
	log_kv(&l, "id", id);   /* NULL (not logged) but for a message queued in-process */
	log_kv(&l, "code", code);
	log_end(&l);
}

/* The end of a message: refuse it for what the data machine saw, or
 * hand the envelope to the queue program and answer for its exit. */
static void
msg_end(struct session *s)
{
	const char *text, *result = "perm", *id = NULL;
	int code, inproc = s->q.inproc, held = 0;
	sigset_t stop, old;
	if (s->data.errors) {
		qprog_abort(&s->q);
		if (s->data.errors & SMTPDATA_TOOBIG)
			text = "552 5.3.4 Message size exceeds fixed maximum message size";
		else if (s->data.errors & SMTPDATA_BARE)
			text = "554 5.6.0 Bare CR or LF in message refused";
		else if (s->data.errors & SMTPDATA_LONGLINE)
			text = "554 5.6.0 Message line longer than 1000 bytes refused";
		else
			text = "554 5.4.6 Too many hops: mail loop";
	} else {
		/* A stop signal (an admin's kill, a process group's) once the
		 * queue has the message would leave it queued with the client
		 * told nothing, so sending it again: held off until the answer
		 * is out, then it ends us (queue-add does the same) */
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		held = sigprocmask(SIG_BLOCK, &stop, &old) == 0;
		code = qprog_finish(&s->q, s->env.s, s->env.len + 1, s->dsn.s, s->o.data_timeout);
		if (code == QQ_OK) {
			text = "250 2.0.0 Ok: queued";
			result = "queued";
			id = inproc ? s->q.w->id : NULL;   /* a queue program does not tell it */
			s->msgs++;
			/* mail moved: the client is doing its job (Postfix counts
			 * errors "without delivering mail" too) */
			s->junk = 0;
			s->errors_since = 0;
		} else if (code == QQ_PERM_REFUSED) {
			/* a content filter (spamcheck -q) said no */
			text = "554 5.7.1 Message refused by content policy";
		} else if (code > 0 && QQ_IS_PERM(code)) {
			text = "554 5.3.0 Message refused by the queue";
		} else {
			text = queue_temp(code, "451 4.3.0 Temporary queue failure");
			result = "temp";
		}
	}
	s->q.pid = -1;
	s->bdat = 0;
	log_message(s, result, text, id);
	if (text[0] == '2')
		reply(s, text);
	else
		reply_err(s, text);
	txn_reset(s);
	if (held) {
		reply_flush(s);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
}

/* client gone or too slow in the middle of a message */
static _Noreturn void
msg_lost(struct session *s, int timedout)
{
	qprog_abort(&s->q);
	s->bdat = 0;
	if (s->mail)   /* a chunk outside any transaction is no message (and has no envelope) */
		log_message(s, "aborted", timedout ? "timeout" : "eof", NULL);
	if (timedout)
		session_close(s, "4.4.2", "Timeout, closing connection", "timeout");
	session_exit(s, "eof-in-data");
}

static ssize_t
fill(struct session *s)
{
	ssize_t r;
	buf_timeout(&s->in, s->o.data_timeout * 1000);
	r = buf_fill(&s->in);
	buf_timeout(&s->in, s->o.cmd_timeout * 1000);
	if (r <= 0)
		msg_lost(s, r < 0 && errno == ETIMEDOUT);
	return r;
}

/* DATA refused. DATA ends a command group (RFC 2920 3.1): a client sends
 * the message only after the 354. Bytes already here are a message sent
 * without waiting, whose lines must never be read as commands (a body
 * line "RCPT TO:<...>" then "DATA" would queue a message of the body's
 * choosing in the client's transaction): the session ends. */
static void
data_refused(struct session *s, const char *text)
{
	int waiting = 0;   /* bytes the kernel holds: not an end of file */
	reply_err(s, text);
	if (buf_pending(&s->in) == 0 && (ioctl(s->in.fd, FIONREAD, &waiting) < 0 || waiting <= 0))
		return;
	session_close(s, "4.5.0", "Message sent before the reply to DATA, closing connection", "data-unsynced");
}

void
smtp_data(struct session *s, const char *arg)
{
	char out[BUF_SIZE + 2];
	const char *refused;
	if (*arg)
		refused = "501 5.5.4 Syntax: DATA";
	else if (!(refused = txn_ready(s, 0)))
		refused = msg_begin(s);
	if (refused) {
		data_refused(s, refused);
		return;
	}
	smtpdata_init(&s->data, 1, s->o.maxsize);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	reply_flush(s);
	buf_deadline(&s->in, s->o.data_deadline * 1000);
	while (!s->data.done) {
		size_t olen = 0, used;
		if (buf_pending(&s->in) == 0)
			fill(s);
		used = smtpdata_feed(&s->data, s->in.p + s->in.pos, buf_pending(&s->in), out, &olen);
		s->in.pos += used;
		qprog_write(&s->q, out, olen);
	}
	msg_end(s);
}

/* BDAT size [LAST] (RFC 3030): the chunk is read even when refused. A
 * size that cannot be read leaves no way to skip the chunk, which must
 * never be taken for commands: the session ends. */
void
smtp_bdat(struct session *s, const char *arg)
{
	char out[BUF_SIZE + 2];
	const char *refused;
	unsigned long long n;
	size_t sz = strcspn(arg, " ");
	int last = 0, ok;
	if (sz == 0 || scan_ulong(arg, sz, ~0ULL, &n) < 0) {
		reply(s, "501 5.5.4 Syntax: BDAT size [LAST]");
		session_close(s, "4.5.0", "BDAT size unreadable, closing connection", "bdat-syntax");
	}
	if (arg[sz] && strcasecmp(arg + sz, " LAST") == 0)
		last = 1;
	if (arg[sz] && !last) {
		ok = 0;
		reply_err(s, "501 5.5.4 Syntax: BDAT size [LAST]");
	} else if (!s->bdat && (refused = txn_ready(s, 1)) != NULL) {
		ok = 0;
		reply_err(s, refused);
	} else {
		ok = 1;
	}
	if (ok && !s->bdat) {
		refused = msg_begin(s);
		if (refused) {
			ok = 0;
			reply_err(s, refused);
		} else {
			s->bdat = 1;
			smtpdata_init(&s->data, 0, s->o.maxsize);
			s->bdat_deadline = buf_now_ms() + s->o.data_deadline * 1000LL;
		}
	}
	if (s->bdat) {
		/* every chunk in time must not make the message's time endless */
		long long left = s->bdat_deadline - buf_now_ms();
		if (left <= 0)
			msg_lost(s, 1);
		buf_deadline(&s->in, (int)left);   /* at most -D's 86400 s */
	} else {
		buf_deadline(&s->in, s->o.data_deadline * 1000);
	}
	while (n > 0) {
		size_t take, olen = 0;
		if (buf_pending(&s->in) == 0)
			fill(s);
		take = buf_pending(&s->in);
		if (take > n)
			take = (size_t)n;
		if (ok)
			take = smtpdata_feed(&s->data, s->in.p + s->in.pos, take, out, &olen);
		s->in.pos += take;
		n -= take;
		if (ok)
			qprog_write(&s->q, out, olen);
	}
	if (!ok) {
		/* already answered; the transaction failed with this chunk
		 * (RFC 3030 2), so later chunks cannot leave a hole in a message */
		txn_reset(s);
		return;
	}
	if (last) {
		smtpdata_finish(&s->data);
		msg_end(s);
	} else if (s->data.errors) {
		msg_end(s);   /* refuse now; later chunks find no transaction */
	} else {
		reply(s, "250 2.0.0 Chunk received");
	}
}
