/* Command lines: read with a hard cap and a per-line deadline, accepted
 * only when they end in CR LF and hold no other CR, LF or NUL. A bare LF
 * never ends a command, not even in the skipped tail of an overlong line:
 * it ends the session, so nothing after it is ever read as a command
 * (THREATS I5). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "smtp.h"

enum { LINE_BARELF = -4 };

/* Up to and including the next CR LF, at most max bytes of it kept in
 * s->line (CR LF stripped); a longer line is read to its CR LF and
 * dropped. A buf_getline result, or LINE_BARELF at a bare LF. */
static int
getline_crlf(struct session *s, size_t max)
{
	struct buf *b = &s->in;
	int cr = 0, toolong = 0;
	s->line.len = 0;
	for (;;) {
		const char *p = b->p + b->pos;
		size_t have = buf_pending(b), i;
		ssize_t r;
		int lf;
		for (i = 0; i < have && p[i] != '\n'; i++)
			cr = p[i] == '\r';   /* carried over: the CR may end the previous read */
		lf = i < have;
		if (lf && !cr) {
			b->pos += i + 1;
			return LINE_BARELF;
		}
		i += lf;
		if (!toolong) {
			if (i > max - s->line.len) {   /* s->line.len <= max always holds */
				toolong = 1;
				s->line.len = 0;
			} else if (str_catb(&s->line, p, i) < 0) {
				return BUF_ERR;
			}
		}
		b->pos += i;
		if (lf) {
			if (toolong)
				return BUF_TOOLONG;
			s->line.len -= 2;
			return str_0(&s->line) < 0 ? BUF_ERR : BUF_LINE;
		}
		r = buf_fill(b);
		if (r < 0)
			return BUF_ERR;
		if (r == 0)
			return s->line.len || toolong ? BUF_PARTIAL : BUF_EOF;
	}
}

/* -T: no command is read past the session's end, so a client cannot
 * hold a tcpserver slot for hours with a NOOP every -t seconds under -j;
 * a message begun before it still has its own -D. */
static _Noreturn void
session_over(struct session *s)
{
	session_close(s, "4.4.2", "Session time limit reached, closing connection", "session-time");
}

int
cmd_getline(struct session *s, size_t max)
{
	int r, ms = s->o.cmd_timeout * 1000, by_session = 0;
	if (buf_pending(&s->in) == 0)
		reply_flush(s);
	if (s->session_end) {
		/* a BDAT message begun has its -D for its later chunks (the
		 * BDAT lines are commands), as a DATA one has for its lines */
		long long end = s->bdat && s->bdat_deadline > s->session_end ? s->bdat_deadline : s->session_end;
		long long left = end - buf_now_ms();
		if (left <= 0)
			session_over(s);
		if (left < ms) {
			ms = (int)left;   /* under -t's ms, an int */
			by_session = 1;
		}
	}
	buf_deadline(&s->in, ms);
	r = getline_crlf(s, max);   /* max counts the CR LF */
	switch (r) {
	case BUF_LINE:
		break;
	case BUF_TOOLONG:
		reply_err(s, "500 5.5.2 Line too long");
		return 0;
	case LINE_BARELF:
		reply(s, "500 5.5.2 Bare LF in command refused");
		session_close(s, "4.5.0", "Bare LF in a command, closing connection", "bare-lf");
	case BUF_ERR:
		if (errno == ETIMEDOUT && by_session)
			session_over(s);
		if (errno == ETIMEDOUT)
			session_close(s, "4.4.2", "Timeout, closing connection", "timeout");
		session_exit(s, "readerror");
	default:
		session_exit(s, r == BUF_EOF ? "eof" : "eof-in-line");
	}
	reply_deadline(s);   /* for replies written directly (EHLO, greeting) */
	if (memchr(s->line.s, '\r', s->line.len) || memchr(s->line.s, 0, s->line.len)) {
		reply_err(s, "500 5.5.2 Bare CR or NUL in command refused");
		return 0;
	}
	return 1;
}

static void
c_noop(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "250 2.0.0 Ok");
}

static void
c_rset(struct session *s, const char *arg)
{
	if (*arg) {
		reply_err(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	txn_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static void
c_quit(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	session_exit(s, "quit");
}

static void
c_vrfy(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void
c_expn(struct session *s, const char *arg)
{
	(void)arg;
	reply_err(s, "502 5.5.1 EXPN not available");
}

static void
c_help(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
	reply(s, "214 2.0.0 See RFC 5321");
}

static void
c_ehlo(struct session *s, const char *arg)
{
	smtp_ehlo(s, arg, 1);
}

static void
c_helo(struct session *s, const char *arg)
{
	smtp_ehlo(s, arg, 0);
}

static void
c_mail(struct session *s, const char *arg)
{
	smtp_mail(s, arg, strlen(arg));
}

static void
c_rcpt(struct session *s, const char *arg)
{
	smtp_rcpt(s, arg, strlen(arg));
}

/* Junk: commands that move no mail, so that a client cannot hold its
 * connection for ever with a NOOP every -t seconds (Postfix's
 * smtpd_junk_command_limit). EHLO and HELO are junk once greeted. */
enum { JUNK_NO, JUNK, JUNK_REGREET };

static const struct {
	const char *verb;
	void (*fn)(struct session *, const char *);
	int junk;
} cmds[] = {
	{ "EHLO", c_ehlo, JUNK_REGREET },
	{ "HELO", c_helo, JUNK_REGREET },
	{ "MAIL", c_mail, JUNK_NO },
	{ "RCPT", c_rcpt, JUNK_NO },
	{ "DATA", smtp_data, JUNK_NO },
	{ "BDAT", smtp_bdat, JUNK_NO },
	{ "RSET", c_rset, JUNK },
	{ "NOOP", c_noop, JUNK },
	{ "QUIT", c_quit, JUNK_NO },
	{ "VRFY", c_vrfy, JUNK },
	{ "EXPN", c_expn, JUNK },
	{ "HELP", c_help, JUNK },
	{ "STARTTLS", smtp_starttls, JUNK_NO },
	{ "AUTH", smtp_auth, JUNK_NO },
};

void
cmd_loop(struct session *s)
{
	for (;;) {
		size_t i, vlen;
		const char *arg;
		if (!cmd_getline(s, SMTP_CMD_MAX))
			continue;
		vlen = strcspn(s->line.s, " ");
		arg = s->line.s + vlen;
		if (*arg == ' ')
			arg++;
		for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
			if (strlen(cmds[i].verb) == vlen && strncasecmp(s->line.s, cmds[i].verb, vlen) == 0)
				break;
		if (i == sizeof cmds / sizeof cmds[0]) {
			if (vlen == 0 && s->line.len == 0)
				reply_err(s, "500 5.5.2 Empty command");
			else
				reply_err(s, "500 5.5.1 Command unrecognized");
			continue;
		}
		if ((cmds[i].junk == JUNK || (cmds[i].junk == JUNK_REGREET && s->greeted)) && ++s->junk > s->o.maxjunk)
			session_close(s, "4.7.0", "Too many commands, closing connection", "junk");
		cmds[i].fn(s, arg);
	}
}
