/* The POP3 state machine. Replies are buffered and flushed only when
 * the client has nothing more pipelined, so a pipelining client gets
 * its answers in few segments; every read has the idle timeout, every
 * command line a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "checkpw.h"
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "login.h"
#include "mbox.h"
#include "popcmd.h"
#include "sasl.h"
#include "session.h"
#include "str.h"
#include "ucspitls.h"

enum { OUTBUF = 262144 };
enum state { S_AUTH, S_TRANS };
enum { GO_ON = 0, END = 1 };

struct sess {
	const struct popopt *o;
	struct buf in, out;
	char inspace[BUF_SIZE];
	char outspace[OUTBUF];
	enum state state;
	int tls, stls_ok;
	struct str tlsproto, tlscipher;   /* TLS facts for the logs, when known */
	struct str user;       /* from USER, or the logged-in user */
	int have_user;
	unsigned int fails;
	unsigned long ncmds, nbad, retrieved;
	struct mbox mb;
	int mb_open;
	const char *ip;
	const char *endwhy;
	int exitcode;
	int end_logged;
	struct str line;
};

static void
reply(struct sess *s, const char *status, const char *text)
{
	if (buf_puts(&s->out, status) < 0 || (text && (buf_put(&s->out, " ", 1) < 0 || buf_puts(&s->out, text) < 0))
	    || buf_put(&s->out, "\r\n", 2) < 0) {
		s->endwhy = "write-error";
	}
}
#define OK(s, t) reply((s), "+OK", (t))
#define ERR(s, t) reply((s), "-ERR", (t))

/* Every write to the client is checked: a flush that failed (a reader
 * past the deadline) has dropped the buffer, and a session that went on
 * would slip out of the deadline that should have ended it. */
static void
put(struct sess *s, const char *text)
{
	if (buf_puts(&s->out, text) < 0)
		s->endwhy = "write-error";
}

static void
put_u(struct sess *s, unsigned long long u)
{
	if (buf_putu(&s->out, u) < 0)
		s->endwhy = "write-error";
}

/* buf's timeouts guard poll(2); a blocking write(2) of a big buffer to a
 * client that stopped reading would still hang, so the fds are made
 * non-blocking (buf retries EAGAIN through poll) */
static void
nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int
loopback(const char *ip)
{
	return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0);
}

/* May a password travel on this connection? */
static int
plain_allowed(const struct sess *s)
{
	if (s->tls)
		return 1;
	if (ucspitls_required())
		return 0;
	return s->o->plain_ok || (s->o->plain_loopback && loopback(s->ip));
}

static void
log_session(struct sess *s, const char *event, const char *result, unsigned long deleted)
{
	struct logline l;
	log_begin(&l, event);
	if (s->have_user)
		log_kvb(&l, "user", s->user.s, s->user.len);
	log_kv(&l, "ip", s->ip);
	log_kv(&l, "tls", s->tls ? "yes" : "no");
	if (s->tls && !s->tlsproto.len)
		(void)ucspitls_info(&s->tlsproto, &s->tlscipher);   /* without blocking; may come later */
	if (s->tlsproto.len)
		log_kvb(&l, "proto", s->tlsproto.s, s->tlsproto.len);
	if (s->tlscipher.len)
		log_kvb(&l, "cipher", s->tlscipher.s, s->tlscipher.len);
	if (result)
		log_kv(&l, "result", result);
	if (s->mb_open) {
		log_kvu(&l, "messages", s->mb.count);
		log_kvu(&l, "retrieved", s->retrieved);
		log_kvu(&l, "deleted", deleted);
	}
	log_end(&l);
}

static void
capa(struct sess *s)
{
	OK(s, "capability list follows");
	put(s, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n");
	if (!s->o->checkpw)
		put(s, "PIPELINING\r\n");   /* the checkpassword child cannot see pipelined bytes */
	if (s->state == S_AUTH && plain_allowed(s))
		put(s, "USER\r\nSASL PLAIN LOGIN\r\n");
	if (s->state == S_AUTH && s->stls_ok)
		put(s, "STLS\r\n");
	put(s, "IMPLEMENTATION pipemail\r\n.\r\n");
}

/* Before login the replies to a command must be out within the timeout
 * of it: else a client that pipelines many commands and then reads a
 * few bytes now and then holds the process for hours without a password.
 * After login only the idle timeout: a big RETR on a slow link is fine. */
static void
out_deadline(struct sess *s)
{
	buf_deadline(&s->out, s->state == S_AUTH ? s->o->timeout_ms : 0);
}

/* Read one command line: CRLF-terminated, capped, within the deadline.
 * 1 line in s->line (CRLF stripped); 0 handled (a reply was queued);
 * -1 end of session. */
static int
getline_crlf(struct sess *s)
{
	int r;
	if (buf_pending(&s->in) == 0) {
		out_deadline(s);
		if (buf_flush(&s->out) < 0) {
			s->endwhy = "write-error";
			return -1;
		}
	}
	buf_deadline(&s->in, s->o->timeout_ms);
	r = buf_getline(&s->in, &s->line, POPCMD_LINE_MAX, '\n');
	out_deadline(s);
	if (r == BUF_EOF || r == BUF_PARTIAL) {
		s->endwhy = "eof";
		return -1;
	}
	if (r == BUF_ERR) {
		s->endwhy = errno == ETIMEDOUT ? "timeout" : "read-error";
		if (errno == ETIMEDOUT) {
			ERR(s, "autologout: idle too long");
			buf_flush(&s->out);
		}
		return -1;
	}
	if (r == BUF_TOOLONG) {
		ERR(s, "line too long");
		return 0;
	}
	if (s->line.len == 0 || s->line.s[s->line.len - 1] != '\r') {
		ERR(s, "lines end with CRLF");
		return 0;
	}
	s->line.len--;
	s->line.s[s->line.len] = 0;
	return 1;
}

static void
wipe_line(struct sess *s)
{
	if (s->line.s)
		explicit_bzero(s->line.s, s->line.cap);
}

/* After a successful login, as the mailbox owner: open the snapshot. */
static int
open_mailbox(struct sess *s, const char *maildir)
{
	int r = mbox_open(&s->mb, maildir);
	if (r == MBOX_INUSE) {
		log_session(s, "login", "in-use", 0);
		ERR(s, "[IN-USE] mailbox in use by another POP3 session");
		s->endwhy = "in-use";
		return END;
	}
	if (r != MBOX_OK) {
		warn_sys("open mailbox", maildir);
		log_session(s, "login", "mailbox-error", 0);
		ERR(s, "[SYS/TEMP] unable to open the mailbox, try later");
		s->endwhy = "mailbox-error";
		s->exitcode = EXIT_TEMP;
		return END;
	}
	s->mb_open = 1;
	s->state = S_TRANS;
	log_session(s, "login", "ok", 0);
	if (buf_puts(&s->out, "+OK ") < 0 || buf_putu(&s->out, s->mb.count) < 0
	    || buf_puts(&s->out, " messages (") < 0 || buf_putu(&s->out, s->mb.total) < 0
	    || buf_puts(&s->out, " octets)\r\n") < 0)
		s->endwhy = "write-error";
	return GO_ON;
}

static int
login_failed(struct sess *s, const char *result, const char *text)
{
	s->fails++;
	log_session(s, "login", result, 0);
	login_fail_delay(s->fails);
	if (s->fails >= s->o->maxfail) {
		ERR(s, "[AUTH] authentication failed; too many failures, closing");
		s->endwhy = "login-failures";
		return END;
	}
	ERR(s, text);
	return GO_ON;
}

/* checkpassword(8) interface as qmail-popup uses it: user\0pass\0stamp\0
 * on fd 3; the program execs the subprogram, which serves the session. */
static int
run_checkpw(struct sess *s, const char *pass)
{
	struct str data = STR_INIT;
	int p[2], ready[2] = { -1, -1 }, st, e;
	/* -w: the check is timed, the subprogram reporting its start on a
	 * pipe. Without it, no pipe and no process group: a subprogram that
	 * knows nothing of the pipe (qmail-pop3d) is never cut off. */
	int limit = s->o->checkpw_ms;
	/* at a terminal (an admin trying it by hand) checkpassword stays in
	 * the foreground process group: in its own, the subprogram reading
	 * the terminal would be stopped by SIGTTIN */
	int group = limit && !isatty(s->in.fd);
	pid_t pid;
	if (buf_flush(&s->out) < 0) {
		s->endwhy = "write-error";
		return END;
	}
	if (str_copyb(&data, s->user.s, s->user.len + 1) < 0 || str_catb(&data, pass, strlen(pass) + 1) < 0
	    || str_cats(&data, "<") < 0 || str_catu(&data, (unsigned long long)getpid()) < 0
	    || str_cats(&data, ".") < 0 || str_catu(&data, (unsigned long long)time(NULL)) < 0
	    || str_catb(&data, "@pipemail>", 11) < 0 || pipe(p) < 0) {
		str_free(&data);
		ERR(s, "[SYS/TEMP] out of resources");
		return GO_ON;
	}
	if (limit && pipe2(ready, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		str_free(&data);
		ERR(s, "[SYS/TEMP] out of resources");
		return GO_ON;
	}
	pid = fork();
	if (pid == 0) {
		/* the checkpassword chain expects SIGPIPE's default; only here:
		 * this process writes to the pipe below and must not die of it
		 * when the program exits without reading */
		signal(SIGPIPE, SIG_DFL);
		close(p[1]);
		if (checkpw_child(ready[1], group) < 0)
			_exit(EXIT_TEMP);
		nonblock(s->in.fd, 0);   /* the checkpassword chain expects blocking fds */
		nonblock(s->out.fd, 0);
		if ((s->in.fd != 0 && dup2(s->in.fd, 0) < 0) || (s->out.fd != 1 && dup2(s->out.fd, 1) < 0)
		    || (p[0] != 3 && (dup2(p[0], 3) < 0 || close(p[0]) < 0)))
			_exit(EXIT_TEMP);
		if (s->tls)
			setenv("POPSERVE_TLS", "1", 1);
		execvp(s->o->checkpw[0], s->o->checkpw);
		_exit(EXIT_TEMP);
	}
	close(p[0]);
	if (limit)
		close(ready[1]);
	if (pid > 0 && group)
		(void)setpgid(pid, pid);   /* as the child does: whichever runs first */
	e = pid < 0 ? -1 : buf_writeall(p[1], data.s, data.len, s->o->timeout_ms, 0);
	explicit_bzero(data.s, data.len);
	str_free(&data);
	close(p[1]);
	if (pid < 0) {
		if (limit)
			close(ready[0]);
		ERR(s, "[SYS/TEMP] unable to run checkpassword");
		return GO_ON;
	}
	(void)e;   /* a checkpassword that does not read fails on its own */
	/* the session the subprogram serves has its own timeouts */
	e = checkpw_wait(pid, ready[0], limit, &st);
	nonblock(s->in.fd, 1);   /* the child shared our file descriptions */
	nonblock(s->out.fd, 1);
	if (e == CHECKPW_TIMEOUT) {
		log_session(s, "login", "timeout", 0);
		ERR(s, "[SYS/TEMP] the password check took too long, try later");
		s->endwhy = "checkpassword-timeout";
		s->exitcode = EXIT_TEMP;
		return END;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		s->endwhy = "checkpassword-done";
		log_session(s, "login", "ok", 0);
		return END;   /* the subprogram served the session */
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
		return login_failed(s, "bad", "[AUTH] authentication failed");
	log_session(s, "login", "temp", 0);
	ERR(s, "[SYS/TEMP] unable to check the password, try later");
	return GO_ON;
}

static int
do_login(struct sess *s, const char *pass)
{
	struct conf_user u;
	int r;
	if (s->o->checkpw)
		return run_checkpw(s, pass);
	r = login_check(s->user.s, pass, &u);
	if (r == LOGIN_BAD)
		return login_failed(s, "bad", "[AUTH] authentication failed");
	if (r != LOGIN_OK) {
		log_session(s, "login", "temp", 0);
		ERR(s, "[SYS/TEMP] unable to check the password, try later");
		return GO_ON;
	}
	/* the canonical address for the logs */
	str_copyb(&s->user, u.addr.s, u.addr.len);
	if (login_drop(u.uid, u.gid) < 0) {
		warn_sys("switch to the user of", s->user.s);
		log_session(s, "login", "drop-failed", 0);
		ERR(s, "[SYS/PERM] unable to switch to the mailbox owner");
		s->endwhy = "drop-failed";
		s->exitcode = EXIT_TEMP;
		conf_user_free(&u);
		return END;
	}
	r = open_mailbox(s, u.maildir.s);
	conf_user_free(&u);
	return r;
}

/* One SASL continuation: "+ prompt", then the client's line. 1 the
 * response in *resp; 0 handled (a bad line, or "*": cancelled, RFC 5034
 * 4); -1 end of session. */
static int
sasl_step(struct sess *s, const char *prompt, const char **resp, size_t *rlen)
{
	int r;
	reply(s, "+", prompt);
	r = getline_crlf(s);
	if (r <= 0) {
		if (r == 0)
			s->nbad++;
		return r;
	}
	if (s->line.len == 1 && s->line.s[0] == '*') {
		ERR(s, "[AUTH] authentication cancelled");
		return 0;
	}
	*resp = s->line.s;
	*rlen = s->line.len;
	return 1;
}

/* AUTH LOGIN: the user name (perhaps as the initial response), then the
 * password, each base64 on its own line. 1 both in user and pass; 0 a
 * reply was queued; -1 end of session. */
static int
sasl_login(struct sess *s, const struct popcmd *c, struct str *user, struct str *pass)
{
	const char *resp;
	size_t rlen;
	int r = 1;
	if (c->nargs == 2) {
		resp = c->arg[1];
		rlen = c->arglen[1];
	} else {
		r = sasl_step(s, "VXNlcm5hbWU6", &resp, &rlen);   /* "Username:" */
	}
	if (r == 1 && sasl_login_field(resp, rlen, user) < 0) {
		s->nbad++;
		ERR(s, "[AUTH] malformed LOGIN response");
		r = 0;
	}
	if (r == 1)
		r = sasl_step(s, "UGFzc3dvcmQ6", &resp, &rlen);   /* "Password:" */
	if (r == 1 && sasl_login_field(resp, rlen, pass) < 0) {
		s->nbad++;
		ERR(s, "[AUTH] malformed LOGIN response");
		r = 0;
	}
	wipe_line(s);
	return r;
}

static int
cmd_auth(struct sess *s, const struct popcmd *c)
{
	struct str user = STR_INIT, pass = STR_INIT;
	const char *resp;
	size_t rlen;
	int r, login;
	if (c->nargs == 0) {
		OK(s, "SASL mechanisms follow");
		put(s, "PLAIN\r\nLOGIN\r\n.\r\n");
		return GO_ON;
	}
	login = c->arglen[0] == 5 && strncasecmp(c->arg[0], "LOGIN", 5) == 0;
	if (!login && (c->arglen[0] != 5 || strncasecmp(c->arg[0], "PLAIN", 5) != 0)) {
		ERR(s, "unsupported SASL mechanism");
		return GO_ON;
	}
	if (!plain_allowed(s)) {
		ERR(s, "[AUTH] authentication needs TLS: use STLS first");
		return GO_ON;
	}
	if (login) {
		r = sasl_login(s, c, &user, &pass);
		if (r == 1) {
			str_copyb(&s->user, user.s, user.len);
			s->have_user = 1;
			r = do_login(s, pass.s);
		} else {
			r = r < 0 ? END : GO_ON;
		}
		goto done;
	}
	if (c->nargs == 2) {
		resp = c->arg[1];
		rlen = c->arglen[1];
	} else {
		r = sasl_step(s, "", &resp, &rlen);
		if (r <= 0)
			return r < 0 ? END : GO_ON;
	}
	if (rlen == 1 && resp[0] == '=')
		rlen = 0;   /* RFC 5034: an empty initial response */
	r = sasl_plain_decode(resp, rlen, &user, &pass);
	wipe_line(s);
	if (r == -1) {
		s->nbad++;
		ERR(s, "[AUTH] malformed PLAIN response");
	} else if (r == -2) {
		str_copyb(&s->user, user.s, user.len);
		s->have_user = 1;
		r = login_failed(s, "authzid-refused", "[AUTH] authorization identity refused");
	} else {
		str_copyb(&s->user, user.s, user.len);
		s->have_user = 1;
		r = do_login(s, pass.s);
	}
done:
	if (pass.s)
		explicit_bzero(pass.s, pass.cap);
	str_free(&user);
	str_free(&pass);
	if (r < 0)
		r = GO_ON;
	if (s->state == S_AUTH && r == GO_ON)
		s->have_user = 0;   /* as after PASS: a failed AUTH is no USER for the next PASS */
	return r;
}

static int
cmd_stls(struct sess *s)
{
	int rfd, wfd;
	if (!s->stls_ok) {
		ERR(s, s->tls ? "already in TLS" : "STLS not available");
		return GO_ON;
	}
	OK(s, "begin TLS negotiation");
	if (buf_flush(&s->out) < 0) {
		s->endwhy = "write-error";
		return END;
	}
	if (ucspitls_start(&rfd, &wfd) < 0) {
		warn_sys("start", "TLS");
		s->endwhy = "tls-failed";
		s->exitcode = EXIT_TEMP;
		return END;
	}
	/* RFC 2595 and I6: what was pipelined in plaintext is dropped and
	 * the session starts over */
	buf_init(&s->in, rfd, s->inspace, sizeof s->inspace);
	buf_init(&s->out, wfd, s->outspace, sizeof s->outspace);
	nonblock(rfd, 1);
	nonblock(wfd, 1);
	buf_timeout(&s->in, s->o->timeout_ms);
	buf_timeout(&s->out, s->o->timeout_ms);
	s->tls = 1;
	s->stls_ok = 0;
	s->have_user = 0;
	s->user.len = 0;
	return GO_ON;
}

static int
auth_state(struct sess *s, const struct popcmd *c)
{
	switch (c->verb) {
	case POP_USER:
		if (!plain_allowed(s)) {
			ERR(s, "[AUTH] plaintext login needs TLS: use STLS first");
			return GO_ON;
		}
		if (c->arglen[0] > CONF_ADDR_MAX) {
			ERR(s, "user name too long");
			return GO_ON;
		}
		str_copyb(&s->user, c->arg[0], c->arglen[0]);
		s->have_user = 1;
		OK(s, "send PASS");
		return GO_ON;
	case POP_PASS: {
		int r;
		if (!s->have_user || !plain_allowed(s)) {
			s->nbad++;
			ERR(s, s->have_user ? "[AUTH] plaintext login needs TLS" : "USER first");
			wipe_line(s);
			return GO_ON;
		}
		r = do_login(s, c->arg[0]);
		wipe_line(s);
		if (s->state == S_AUTH && r == GO_ON)
			s->have_user = 0;
		return r;
	}
	case POP_AUTH:
		s->have_user = 0;   /* PASS follows USER directly (RFC 1939), not an AUTH */
		return cmd_auth(s, c);
	case POP_APOP:
		ERR(s, "APOP not supported");
		return GO_ON;
	case POP_STLS:
		return cmd_stls(s);
	case POP_CAPA:
		capa(s);
		return GO_ON;
	case POP_NOOP:
	case POP_QUIT:
		break;
	default:
		s->nbad++;
		ERR(s, "not logged in");
		return GO_ON;
	}
	if (c->verb == POP_QUIT) {
		OK(s, "bye");
		s->endwhy = "quit";
		return END;
	}
	s->nbad++;
	ERR(s, "not logged in");
	return GO_ON;
}

/* a message number argument; 0 with *i set, or -1 with the -ERR queued */
static int
msgarg(struct sess *s, const char *a, size_t len, unsigned long *i)
{
	unsigned long n;
	if (popcmd_msgno(a, len, s->mb.count, &n) < 0) {
		ERR(s, "no such message");
		return -1;
	}
	if (s->mb.msg[n - 1].deleted) {
		ERR(s, "message already deleted");
		return -1;
	}
	*i = n - 1;
	return 0;
}

static void
put_item(struct sess *s, unsigned long i, int uidl)
{
	put_u(s, i + 1);
	put(s, " ");
	if (uidl)
		put(s, mbox_uid(&s->mb, i));
	else
		put_u(s, s->mb.msg[i].size);
	put(s, "\r\n");
}

static int
listing(struct sess *s, const struct popcmd *c, int uidl)
{
	unsigned long i;
	if (c->nargs == 1) {
		if (msgarg(s, c->arg[0], c->arglen[0], &i) < 0)
			return GO_ON;
		put(s, "+OK ");
		put_item(s, i, uidl);
		return GO_ON;
	}
	OK(s, uidl ? "unique-id listing follows" : "scan listing follows");
	for (i = 0; i < s->mb.count && !s->endwhy; i++)
		if (!s->mb.msg[i].deleted)
			put_item(s, i, uidl);
	put(s, ".\r\n");
	return GO_ON;
}

static int
send_msg(struct sess *s, unsigned long i, unsigned long long lines)
{
	int r = mbox_send(&s->mb, i, &s->out, lines);
	if (r == MBOX_SEND_WRITE || r == MBOX_SEND_READ) {
		if (r == MBOX_SEND_READ)
			warn_sys("read", "a message");
		s->endwhy = r == MBOX_SEND_READ ? "read-error" : "write-error";
		s->exitcode = EXIT_TEMP;
		return END;
	}
	if (r == MBOX_SEND_UNREADABLE)
		warn_sys("read", mbox_uid(&s->mb, i));
	if (r == MBOX_SEND_NOFILE || r == MBOX_SEND_UNREADABLE) {
		ERR(s, "[SYS/TEMP] message vanished or unreadable");
		return GO_ON;
	}
	if (lines == (unsigned long long)-1 && !s->mb.msg[i].retrieved) {
		s->mb.msg[i].retrieved = 1;
		s->retrieved++;
		/* now, while the client reads: the move overlaps the transfer */
		if (s->o->mark_seen)
			(void)mbox_mark_seen(&s->mb, i);
	}
	return GO_ON;
}

static int
trans_state(struct sess *s, const struct popcmd *c)
{
	unsigned long i, failed, deleted;
	unsigned long long n;
	switch (c->verb) {
	case POP_STAT:
		put(s, "+OK ");
		put_u(s, s->mb.count - s->mb.ndeleted);
		put(s, " ");
		put_u(s, s->mb.total);
		put(s, "\r\n");
		return GO_ON;
	case POP_LIST:
		return listing(s, c, 0);
	case POP_UIDL:
		return listing(s, c, 1);
	case POP_RETR:
		if (msgarg(s, c->arg[0], c->arglen[0], &i) < 0)
			return GO_ON;
		return send_msg(s, i, (unsigned long long)-1);
	case POP_TOP:
		if (msgarg(s, c->arg[0], c->arglen[0], &i) < 0)
			return GO_ON;
		if (popcmd_count(c->arg[1], c->arglen[1], (unsigned long long)-2, &n) < 0) {
			ERR(s, "syntax: TOP msg lines");
			return GO_ON;
		}
		return send_msg(s, i, n);
	case POP_DELE:
		if (msgarg(s, c->arg[0], c->arglen[0], &i) < 0)
			return GO_ON;
		mbox_dele(&s->mb, i);
		OK(s, "message deleted");
		return GO_ON;
	case POP_RSET:
		mbox_rset(&s->mb);
		OK(s, "maildrop reset");
		return GO_ON;
	case POP_NOOP:
		OK(s, NULL);
		return GO_ON;
	case POP_CAPA:
		capa(s);
		return GO_ON;
	case POP_QUIT:
		failed = mbox_commit(&s->mb, &deleted);
		s->endwhy = "quit";
		if (failed) {
			ERR(s, "[SYS/TEMP] some deleted messages were not removed");
			s->exitcode = EXIT_TEMP;   /* a local failure, as pop-serve(8) says */
		} else
			OK(s, "bye");
		log_session(s, "end", failed ? "delete-failed" : "quit", deleted);
		s->end_logged = 1;
		mbox_close(&s->mb);
		s->mb_open = 0;
		return END;
	default:
		s->nbad++;
		ERR(s, "command not valid in this state");
		return GO_ON;
	}
}

int
session_run(const struct popopt *o)
{
	static struct sess s;
	int r = GO_ON;
	signal(SIGPIPE, SIG_IGN);
	{
		/* replies are already gathered in buffers: Nagle would only add
		 * a delayed-ACK wait to every pipelined batch (fails on non-sockets) */
		int one = 1;
		(void)setsockopt(1, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	s.o = o;
	s.exitcode = EXIT_OK;
	s.ip = getenv("TCPREMOTEIP");
	buf_init(&s.in, 0, s.inspace, sizeof s.inspace);
	buf_init(&s.out, 1, s.outspace, sizeof s.outspace);
	nonblock(0, 1);
	nonblock(1, 1);
	buf_timeout(&s.in, o->timeout_ms);
	buf_timeout(&s.out, o->timeout_ms);
	/* POPSERVE_TLS: set by our own checkpassword mode for its -m child */
	s.tls = ucspitls_implicit() || (o->maildir && getenv("POPSERVE_TLS") != NULL);
	s.stls_ok = !s.tls && !o->maildir && ucspitls_available();
	if (o->maildir) {
		/* -m: checkpassword (or another authenticator) already chose the user */
		const char *u = getenv("USER");
		if (u && str_copys(&s.user, u) == 0)
			s.have_user = 1;
		checkpw_ready();   /* pop-serve -k stops timing the password check */
		r = open_mailbox(&s, o->maildir);
	} else {
		OK(&s, "pipemail POP3 server ready");
	}
	while (r == GO_ON && !s.endwhy) {
		struct popcmd c;
		int g = getline_crlf(&s);
		if (g < 0)
			break;
		if (++s.ncmds > o->maxcmds) {
			ERR(&s, "too many commands, closing");
			s.endwhy = "command-limit";
			break;
		}
		if (g == 0) {
			s.nbad++;
		} else {
			popcmd_parse(s.line.s, s.line.len, &c);
			if (c.verb == POP_BAD) {
				s.nbad++;
				ERR(&s, c.why);
			} else {
				r = s.state == S_AUTH ? auth_state(&s, &c) : trans_state(&s, &c);
			}
		}
		if (s.state == S_AUTH)
			wipe_line(&s);   /* it may have held a password, also a refused (over-long, bare LF) one */
		if (r == GO_ON && !s.endwhy && s.nbad >= o->maxbad) {
			ERR(&s, "too many bad commands, closing");
			s.endwhy = "error-limit";
		}
	}
	out_deadline(&s);   /* a fresh one for the last replies */
	buf_flush(&s.out);
	if (s.mb_open) {
		/* dropped, timed out or over a limit: nothing is deleted (RFC 1939 6) */
		log_session(&s, "end", s.endwhy ? s.endwhy : "eof", 0);
		mbox_close(&s.mb);
	} else if (!s.end_logged && !(s.endwhy && strcmp(s.endwhy, "checkpassword-done") == 0)) {
		log_session(&s, "end", s.endwhy ? s.endwhy : "eof", 0);
	}
	wipe_line(&s);
	return s.exitcode;
}
