/* Replies are buffered and flushed only when the client has nothing more
 * pipelined (cmd.c), so a pipelined batch gets one write. */
#include <stdlib.h>
#include "exitcode.h"
#include "log.h"
#include "smtp.h"

/* A reply that cannot be written within -t is a client too slow to read:
 * the idle timeout alone is renewed by every few bytes it takes. */
void
reply_deadline(struct session *s)
{
	buf_deadline(&s->out, s->o.cmd_timeout * 1000);
}

void
reply(struct session *s, const char *text)
{
	reply_deadline(s);
	if (buf_puts(&s->out, text) < 0 || buf_put(&s->out, "\r\n", 2) < 0)
		session_exit(s, "write");
}

void
reply_err(struct session *s, const char *text)
{
	reply(s, text);
	s->errors++;
	if (++s->errors_since >= s->o.maxerrors) {
		session_close(s, "4.7.0", "Too many errors, closing connection", "errors");
	}
}

void
reply_flush(struct session *s)
{
	reply_deadline(s);
	if (buf_flush(&s->out) < 0)
		session_exit(s, "write");
}

/* The server ends the session on its own: "421 enh host text" first
 * (RFC 5321 3.8 and 4.2.3), so the client knows the close was meant and
 * tries again later, not that the connection broke. */
void
session_close(struct session *s, const char *enh, const char *text, const char *why)
{
	reply_deadline(s);
	if (buf_puts(&s->out, "421 ") < 0 || buf_puts(&s->out, enh) < 0 || buf_puts(&s->out, " ") < 0 ||
	    buf_puts(&s->out, s->me.s) < 0 || buf_puts(&s->out, " ") < 0)
		session_exit(s, "write");
	reply(s, text);
	session_exit(s, why);
}

/* The out buffer is allocated already: a reply needs no memory */
void
session_nomem(struct session *s)
{
	session_close(s, "4.3.0", "Out of memory, closing connection", "nomem");
}

void
session_exit(struct session *s, const char *why)
{
	struct logline l;
	qprog_abort(&s->q);   /* a message in progress, DATA's too (a no-op when none) */
	reply_deadline(s);
	(void)buf_flush(&s->out);
	log_begin(&l, "session");
	log_kv(&l, "ip", s->remoteip);
	log_kv(&l, "host", s->remotehost);
	log_kvb(&l, "helo", s->helo.s, s->helo.len);
	log_kv(&l, "tls", s->tls ? (s->tlsproto.len ? s->tlsproto.s : "yes") : "no");
	if (s->authuser.len)
		log_kvb(&l, "auth", s->authuser.s, s->authuser.len);
	log_kvu(&l, "msgs", s->msgs);
	log_kvu(&l, "rejected", s->rejected);
	log_kvu(&l, "errors", s->errors);
	log_kv(&l, "end", why);
	log_end(&l);
	exit(EXIT_OK);
}
