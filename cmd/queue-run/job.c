/* Delivery children. Each runs as root next to queue-run, holds a shared
 * lock on the queue file while it works, starts the delivery agent (as
 * the user, for local mail), reports one line per recipient and waits
 * for queue-run to say the result is recorded. If queue-run died
 * meanwhile, the child appends its lines to state/ID.done, which the next
 * queue-run applies: a kill never loses a finished delivery. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "dsn.h"
#include "exitcode.h"
#include "queue-run.h"
#include "scan.h"
#include "smtpaddr.h"

enum { CAPTURE_MAX = 64 * 1024, ORIG_FULL_MAX = 10 << 20 };

const char *
agent_sender(const char *s)
{
	return strcmp(s, "#@[]") == 0 ? "" : s;
}

/* stdin for an agent, which reads it to its end: the queue file itself
 * when the message ends it (and the reader is ours), else a whole copy
 * of the message. */
int
msg_stdin(const struct queue_msg *m, int private)
{
	struct str tmp = STR_INIT;
	loff_t off = (loff_t)m->hdr.msgoff, to = 0;
	unsigned long long left = m->hdr.msglen;
	int fd;
	if (!private && m->hdr.msgoff + m->hdr.msglen == m->size) {
		fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 3);   /* above 0-2: the caller dup2s it onto 0 */
		if (fd < 0 || lseek(fd, (off_t)m->hdr.msgoff, SEEK_SET) < 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	/* the envelope follows the message: copy the message to an unlinked
	 * file and hand that over only once the copy is whole. (A pipe fed by
	 * a copier would end early on a read error, and the agent would
	 * deliver a truncated message as if complete.) */
	fd = queue_open_in("tmp", NULL, O_TMPFILE | O_RDWR, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* no O_TMPFILE here: a private name, unlinked at once */
		unsigned i;
		for (i = 0; fd < 0 && i < 100; i++) {
			str_copys(&tmp, "msg.");
			str_catu(&tmp, (unsigned long long)getpid());
			str_catc(&tmp, '.');
			str_catu(&tmp, (unsigned long long)(unsigned)random());
			if (str_0(&tmp) < 0)
				break;
			fd = queue_open_in("tmp", tmp.s, O_RDWR | O_CREAT | O_EXCL, 0600);
			if (fd >= 0)
				queue_unlink_in("tmp", tmp.s);
			else if (errno != EEXIST)
				break;
		}
	}
	str_free(&tmp);
	if (fd < 0)
		return -1;
	while (left) {
		size_t want = left > (1 << 30) ? (size_t)1 << 30 : (size_t)left;
		ssize_t w = copy_file_range(m->fd, &off, fd, &to, want, 0);
		if (w < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
			/* no in-kernel copy: through a buffer */
			char b[65536];
			w = pread(m->fd, b, want < sizeof b ? want : sizeof b, (off_t)off);
			if (w > 0 && (lseek(fd, (off_t)to, SEEK_SET) < 0 || buf_writeall(fd, b, (size_t)w, 0, 0) < 0))
				w = -1;
			if (w > 0) {
				off += w;
				to += w;
			}
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		left -= (unsigned long long)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

enum { AGENT_GRACE_MS = 5000 };

/* Has the agent ended? Not reaped (WNOWAIT): while it is a zombie its pid
 * stays its process group's id, so kill(-pid) cannot reach a stranger. */
static int
agent_ended(pid_t pid)
{
	siginfo_t si;
	si.si_pid = 0;
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Read the agent's stderr and stdout until both end, and reap it: its
 * exit code (111 when killed). With a limit, when the limit passes (pipes
 * closed or not), or AGENT_GRACE_MS after the agent itself exited while
 * something it started still holds a pipe, its process group (its own:
 * see agent_run) is killed and our ends of the pipes closed, so that
 * nothing of it (not even a child that left the group) keeps the
 * delivery waiting. The agent is reaped only after that kill. */
static int
agent_wait(pid_t pid, int efd, struct str *err, int ofd, struct str *out, unsigned long long limit)
{
	struct pollfd pf[3];
	char b[4096];
	long long deadline = limit ? buf_now_ms() + (long long)(limit > 1000000000ULL ? 1000000000ULL : limit) * 1000 : 0;
	int st = 0, exited = 0, expired = 0;
	/* readable when the agent ends: no polling for it (a kernel without
	 * pidfd: once a second) */
	int pfd = limit ? (int)pidfd_open(pid, 0) : -1;
	for (;;) {
		int n = 0, i, r, timeout = -1;
		if (efd >= 0) {
			pf[n].fd = efd;
			pf[n++].events = POLLIN;
		}
		if (ofd >= 0) {
			pf[n].fd = ofd;
			pf[n++].events = POLLIN;
		}
		if (!n && (exited || !deadline))
			break;
		if (pfd >= 0 && !exited) {
			pf[n].fd = pfd;
			pf[n++].events = POLLIN;
		}
		if (deadline) {
			long long left = deadline - buf_now_ms();
			if (left <= 0) {
				expired = 1;
				break;
			}
			timeout = exited || pfd >= 0 || left < 1000 ? (int)(left > INT_MAX ? INT_MAX : left) : 1000;
		}
		r = poll(pf, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (!exited && (pfd >= 0 ? r > 0 && pf[n - 1].revents : r == 0) && agent_ended(pid)) {
			exited = 1;
			if (deadline > buf_now_ms() + AGENT_GRACE_MS)
				deadline = buf_now_ms() + AGENT_GRACE_MS;
		}
		for (i = 0; r > 0 && i < n; i++) {
			ssize_t got;
			struct str *dst;
			if (!pf[i].revents || pf[i].fd == pfd)
				continue;
			got = read(pf[i].fd, b, sizeof b);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			dst = pf[i].fd == efd ? err : out;
			if (got <= 0) {
				close(pf[i].fd);
				if (pf[i].fd == efd)
					efd = -1;
				else
					ofd = -1;
				continue;
			}
			if (dst && dst->len < (dst == out ? JOB_OUT_MAX : CAPTURE_MAX))
				str_catb(dst, b, (size_t)got);   /* on ENOMEM the text is just shorter */
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (expired || (deadline && (efd >= 0 || ofd >= 0))) {
		kill(-pid, SIGKILL);   /* the agent's group: whatever it started */
		kill(pid, SIGKILL);    /* and it, should it have no group yet */
	}
	if (efd >= 0)
		close(efd);
	if (ofd >= 0)
		close(ofd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EXIT_TEMP;
	if (expired && !exited) {
		if (err) {
			if (err->len)
				str_catc(err, '\n');
			str_cats(err, "delivery program timed out after ");
			str_catu(err, limit);
			str_cats(err, " seconds");
		}
		return EXIT_TEMP;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return EXIT_TEMP;   /* killed: try again later */
}

/* The agent's environment: ours, with SENDER, RECIPIENT and DTLINE set.
 * Built before vfork, since the child must not allocate. */
static char **
agent_env(const struct agent *a, struct str *hold)
{
	extern char **environ;
	const char *k[3] = { "SENDER=", "RECIPIENT=", "DTLINE=" };
	const char *v[3] = { a->sender, a->recipient, a->dtline };
	size_t n = 0, i, j, off[3];
	char **e;
	while (environ[n])
		n++;
	if (!(e = calloc(n + 4, sizeof *e)))
		return NULL;
	str_trunc(hold, 0);
	for (j = 0; j < 3; j++) {
		off[j] = hold->len;
		if (v[j] && (str_cats(hold, k[j]) < 0 || str_cats(hold, v[j]) < 0 || str_catc(hold, 0) < 0)) {
			free(e);
			return NULL;
		}
	}
	for (i = 0, n = 0; environ[i]; i++) {
		for (j = 0; j < 3; j++)
			if (strncmp(environ[i], k[j], strlen(k[j])) == 0)
				break;
		if (j == 3)
			e[n++] = environ[i];
	}
	for (j = 0; j < 3; j++)
		if (v[j])
			e[n++] = hold->s + off[j];
	e[n] = NULL;
	return e;
}

/* a failure line from a vfork child: write(2) only, nothing allocated */
static void
vfork_say(const char *what, const char *obj, int e)
{
	const char *why = e == ENOENT ? ": file does not exist\n" : e == EACCES ? ": permission denied\n" : ": exec failed\n";
	if (write(2, what, strlen(what)) < 0 || write(2, obj, strlen(obj)) < 0 || write(2, why, strlen(why)) < 0) {
		/* nowhere to say it */
	}
}

/* The agent is started with vfork: queue-run's children are copies of a
 * process holding the whole queue, and copying its page tables for each
 * delivery costs more than the delivery. Between vfork and exec the child
 * only changes its own descriptors, credentials and directory, and _exits
 * on any failure. */
int
agent_run(const struct agent *a)
{
	int ep[2] = { -1, -1 }, op[2] = { -1, -1 }, nul;
	pid_t pid;
	struct str hold = STR_INIT;
	char **env = agent_env(a, &hold);
	gid_t g = a->gid;
	/* O_CLOEXEC: the agent gets its ends as fd 1 and 2 only; a spare
	 * copy of the write end would keep the pipe open after it closed
	 * its stderr (and the read end is none of its business) */
	if (!env || (a->err && pipe2(ep, O_CLOEXEC) < 0) || (a->out && pipe2(op, O_CLOEXEC) < 0) ||
	    (nul = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		free(env);
		str_free(&hold);
		return EXIT_TEMP;
	}
	pid = vfork();
	if (pid < 0) {
		free(env);
		str_free(&hold);
		return EXIT_TEMP;
	}
	if (pid == 0) {
		if (dup2(a->in, 0) < 0 || dup2(a->out ? op[1] : nul, 1) < 0 || (a->err && dup2(ep[1], 2) < 0))
			_exit(EXIT_TEMP);
		if (a->drop && geteuid() == 0 &&
		    (setgroups(1, &g) < 0 || setresgid(a->gid, a->gid, a->gid) < 0 ||
		    setresuid(a->uid, a->uid, a->uid) < 0))
			_exit(EXIT_TEMP);
		if (a->cwd && chdir(a->cwd) < 0)
			_exit(EXIT_TEMP);
		/* a group of its own, killed whole at the time limit */
		if (a->limit && setpgid(0, 0) < 0)
			_exit(EXIT_TEMP);
		signal(SIGPIPE, SIG_DFL);
		execvpe(a->argv[0], a->argv, env);
		vfork_say("queue-run: unable to run ", a->argv[0], errno);
		_exit(EXIT_TEMP);
	}
	close(nul);
	free(env);
	str_free(&hold);
	if (ep[1] >= 0)
		close(ep[1]);
	if (op[1] >= 0)
		close(op[1]);
	return agent_wait(pid, ep[0], a->err, op[0], a->out, a->limit);
}

/* Queue a copy with queue-add: prefix (e.g. a Delivered-To line), then the
 * message; dsn, if not NULL or empty, its PIPEMAIL_DSN. */
int
inject(const struct jobspec *j, const struct queue_msg *m, const char *sender,
    const char *const *rcpts, size_t n, const char *prefix, const char *dsn, struct str *err)
{
	int mp[2], ep[2], st;
	pid_t pid, feeder;
	struct str env = STR_INIT;
	size_t i;
	if (str_catc(&env, 'F') < 0 || str_cats(&env, sender) < 0 || str_catc(&env, 0) < 0)
		return EXIT_TEMP;
	for (i = 0; i < n; i++)
		if (str_catc(&env, 'T') < 0 || str_cats(&env, rcpts[i]) < 0 || str_catc(&env, 0) < 0)
			return EXIT_TEMP;
	/* a local worker lives long: every early way out closes what it opened */
	if (str_catc(&env, 0) < 0 || pipe(mp) < 0) {
		str_free(&env);
		return EXIT_TEMP;
	}
	if (pipe(ep) < 0) {
		close(mp[0]);
		close(mp[1]);
		str_free(&env);
		return EXIT_TEMP;
	}
	feeder = fork();
	if (feeder < 0) {
		close(mp[0]);
		close(mp[1]);
		close(ep[0]);
		close(ep[1]);
		str_free(&env);
		return EXIT_TEMP;
	}
	if (feeder == 0) {
		/* writes message and envelope so queue-add's reads never deadlock ours */
		int in;
		close(mp[0]);
		close(ep[0]);
		signal(SIGPIPE, SIG_DFL);
		if (prefix && buf_writeall(mp[1], prefix, strlen(prefix), 0, 0) < 0)
			_exit(EXIT_TEMP);
		in = m ? msg_stdin(m, 0) : -1;
		if (m && in < 0)
			_exit(EXIT_TEMP);
		if (m) {
			char b[65536];
			ssize_t r;
			while ((r = read(in, b, sizeof b)) > 0)
				if (buf_writeall(mp[1], b, (size_t)r, 0, 0) < 0)
					_exit(EXIT_TEMP);
			if (r < 0)
				_exit(EXIT_TEMP);
		}
		close(mp[1]);
		if (buf_writeall(ep[1], env.s, env.len, 0, 0) < 0)
			_exit(EXIT_TEMP);
		_exit(0);
	}
	close(mp[1]);
	close(ep[1]);
	str_free(&env);
	pid = fork();
	if (pid < 0) {
		close(mp[0]);
		close(ep[0]);   /* the feeder ends on EPIPE */
		while (waitpid(feeder, NULL, 0) < 0 && errno == EINTR)
			;
		return EXIT_TEMP;
	}
	if (pid == 0) {
		char *argv[2];
		if (dup2(mp[0], 0) < 0 || dup2(ep[0], 1) < 0)
			_exit(QQ_TEMP_BUG);
		if (dsn && *dsn ? setenv("PIPEMAIL_DSN", dsn, 1) < 0 : unsetenv("PIPEMAIL_DSN") < 0)
			_exit(QQ_TEMP_BUG);
		argv[0] = (char *)j->cfg->queueadd;
		argv[1] = NULL;
		/* root writing into a directory its owner may swap for a link
		 * would write wherever the owner liked */
		if (geteuid() == 0 && (queue_owner != 0 || queue_group != 0) &&
		    (setgroups(0, NULL) < 0 || setgid(queue_group) < 0 || setuid(queue_owner) < 0))
			_exit(QQ_TEMP_BUG);
		execvp(argv[0], argv);
		_exit(QQ_TEMP_SPAWN);
	}
	close(mp[0]);
	close(ep[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EXIT_TEMP;
	while (waitpid(feeder, NULL, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (err) {
			str_copys(err, "queue-add failed with code ");
			str_catu(err, WIFEXITED(st) ? (unsigned)WEXITSTATUS(st) : 999);
		}
		return WIFEXITED(st) && QQ_IS_PERM(WEXITSTATUS(st)) ? EXIT_PERM : EXIT_TEMP;
	}
	return 0;
}

void
result_line(struct str *out, size_t idx, const char *status, const char *dsn,
    const char *host, const char *text, size_t textlen)
{
	size_t i, start = out->len;
	str_catu(out, idx);
	str_catc(out, ' ');
	str_cats(out, status);
	str_catc(out, ' ');
	str_cats(out, dsn);
	str_catc(out, ' ');
	str_cats(out, host && *host ? host : "-");
	str_catc(out, ' ');
	if (textlen > QUEUE_TEXT_MAX)
		textlen = QUEUE_TEXT_MAX;
	str_catb(out, text, textlen);
	for (i = start; i < out->len; i++)
		if ((unsigned char)out->s[i] < ' ')
			out->s[i] = ' ';
	str_catc(out, '\n');
}

/* first line of a stderr capture, without "PROG: fatal: " noise kept out */
static void
last_line(const struct str *e, const char **p, size_t *n)
{
	size_t end = e->len, start;
	while (end && (e->s[end - 1] == '\n' || e->s[end - 1] == '\r'))
		end--;
	start = end;
	while (start && e->s[start - 1] != '\n')
		start--;
	*p = e->len ? e->s + start : "";
	*n = end - start;
}

void
job_result_from_exit(struct str *out, size_t idx, int code, const struct str *err, const char *what)
{
	const char *t;
	size_t tl;
	last_line(err, &t, &tl);
	if (!tl) {
		t = what;
		tl = strlen(what);
	}
	if (code == 0)
		result_line(out, idx, "ok", "2.0.0", "-", t, tl);
	else if (code == EXIT_PERM)
		result_line(out, idx, "perm", "5.0.0", "-", t, tl);
	else
		result_line(out, idx, "temp", "4.0.0", "-", t, tl);
}

/* smtp-send's RCPT field names rcpt: it prints an address that cannot be
 * one field as it is with its blank, control, DEL and '"' bytes as '?'
 * (smtpaddr_field_put) */
static int
same_rcpt(const char *w, size_t wl, const char *rcpt)
{
	struct str f = STR_INIT;
	size_t k;
	int same;
	if (smtpaddr_field_put(&f, rcpt, strlen(rcpt)) < 0)
		die_nomem(EXIT_TEMP);
	same = wl == f.len;
	for (k = 0; same && k < wl; k++)
		same = w[k] == f.s[k] || tolower((unsigned char)w[k]) == tolower((unsigned char)f.s[k]);
	str_free(&f);
	return same;
}

/* smtp-send's lines "STATUS RCPT ENHANCED HOST TEXT", one per recipient in
 * argument order, into result lines; recipients it said nothing about get
 * a temporary failure with why (what, or the last line of e) */
void
remote_results(const struct jobspec *j, const struct str *o, int code, const struct str *e,
    const char *what, struct str *out)
{
	size_t i, pos = 0;
	for (i = 0; i < j->n; i++) {
		const char *l = o->s ? o->s + pos : NULL, *nl, *w[4];
		size_t wl[4], f, len;
		if (!l || pos >= o->len || !(nl = memchr(l, '\n', o->len - pos)))
			break;
		len = (size_t)(nl - l);
		pos += len + 1;
		for (f = 0; f < 4; f++) {
			/* RCPT: one field though a quoted local part hold blanks */
			size_t fl = f == 1 ? smtpaddr_field(l, len) : 0;
			const char *sp = memchr(l + fl, ' ', len - fl);
			w[f] = l;
			wl[f] = sp ? (size_t)(sp - l) : len;
			if (!sp) {
				l += len;
				len = 0;
				if (f < 3)
					break;
			} else {
				len -= wl[f] + 1;
				l = sp + 1;
			}
		}
		if (f < 3 || !same_rcpt(w[1], wl[1], j->env->rcpt[j->idx[i]]))
			break;
		{
			char status[8], code_[QUEUE_DSNCODE_MAX + 1], host[256];
			if (wl[0] >= sizeof status || wl[2] > QUEUE_DSNCODE_MAX || wl[3] >= sizeof host)
				break;
			memcpy(status, w[0], wl[0]);
			status[wl[0]] = 0;
			memcpy(code_, w[2], wl[2]);
			code_[wl[2]] = 0;
			memcpy(host, w[3], wl[3]);
			host[wl[3]] = 0;
			if (strcmp(status, "ok") && strcmp(status, "relayed") && strcmp(status, "temp") && strcmp(status, "perm"))
				break;
			for (f = 0; code_[f]; f++)
				if (!((code_[f] >= '0' && code_[f] <= '9') || code_[f] == '.'))
					break;
			if (code_[f] || !code_[0])
				strcpy(code_, status[0] == 'o' || status[0] == 'r' ? "2.0.0" : status[0] == 'p' ? "5.0.0" : "4.0.0");
			result_line(out, j->idx[i], status, code_, host, l, len);
		}
	}
	for (; i < j->n; i++)
		job_result_from_exit(out, j->idx[i], code == EXIT_PERM ? EXIT_PERM : EXIT_TEMP, e, what);
}

static void
remote(const struct jobspec *j, const struct queue_msg *m, struct str *out)
{
	struct str o = STR_INIT, e = STR_INIT, dsn = STR_INIT, w = STR_INIT;
	char **argv;
	size_t i, k = 0;
	int code, in;
	argv = calloc(j->n + 6, sizeof *argv);
	if (!argv || dsn_params_subset(j->env->dsn, j->idx, j->n, &dsn) < 0)
		die_nomem(EXIT_TEMP);
	argv[k++] = (char *)j->cfg->smtpsend;
	argv[k++] = (char *)"-f";
	argv[k++] = (char *)agent_sender(j->env->sender);
	argv[k++] = (char *)j->domain;
	for (i = 0; i < j->n; i++)
		argv[k++] = (char *)j->env->rcpt[j->idx[i]];
	in = msg_stdin(m, 0);
	if (in < 0) {
		for (i = 0; i < j->n; i++)
			result_line(out, j->idx[i], "temp", "4.3.0", "-", "unable to read queue file", 25);
		return;
	}
	if (*j->env->dsn)
		setenv("PIPEMAIL_DSN", dsn.s, 1);
	else
		unsetenv("PIPEMAIL_DSN");
	{
		struct agent a = { argv, agent_sender(j->env->sender), NULL, NULL, in, 0, 0, 0, NULL, &e, &o, 0 };
		code = agent_run(&a);
	}
	close(in);
	str_copys(&w, "smtp-send gave no result (exit ");
	str_catu(&w, (unsigned)code);
	str_cats(&w, ")");
	remote_results(j, &o, code, &e, w.s ? w.s : "", out);
	str_free(&w);
	str_free(&o);
	str_free(&e);
	str_free(&dsn);
	free(argv);
}

/* a batch line's field: non-empty, no blank, control or DEL byte */
static int
field_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* an address field: a quoted local part may hold blanks (smtp-send
 * splits the line as smtpaddr_field does) */
static int
addr_field_ok(const char *s)
{
	return smtpaddr_field_ok(s, strlen(s));
}

/* The job line for a persistent "smtp-send -B" (queue-run's workers):
 * a DSN line first when the message has parameters, then
 * "FILE:OFFSET:LENGTH DOMAIN SENDER RCPT...". -1 when a field cannot be
 * carried on a line (a blank or control byte; in an address, one outside
 * a quoted local part): such a job runs its own smtp-send, which refuses
 * that address. */
int
batch_line(const struct jobspec *j, unsigned long long msgoff, unsigned long long msglen, struct str *line)
{
	struct str path = STR_INIT, dsn = STR_INIT;
	const char *sender = agent_sender(j->env->sender);
	size_t i;
	int r = -1;
	str_trunc(line, 0);
	if (queue_path(&path, "mess", j->id) < 0 || dsn_params_subset(j->env->dsn, j->idx, j->n, &dsn) < 0)
		goto out;
	if (!field_ok(path.s) || (*sender && !addr_field_ok(sender)) || !j->domain || !field_ok(j->domain))
		goto out;
	for (i = 0; i < j->n; i++)
		if (!addr_field_ok(j->env->rcpt[j->idx[i]]))
			goto out;
	if (*j->env->dsn) {
		str_cats(line, "DSN\t");
		for (i = 0; i < dsn.len; i++)
			str_catc(line, dsn.s[i] == '\n' ? '\t' : dsn.s[i]);
		/* empty fields at the end go, the tab after DSN stays: a
		 * message without DSN parameters (smtp-recv stores an empty
		 * line for each) still sends "DSN\t", which smtp-send reads */
		while (line->len > 4 && line->s[line->len - 1] == '\t')
			line->len--;
		str_catc(line, '\n');
	}
	str_cats(line, path.s);
	str_catc(line, ':');
	str_catu(line, msgoff);
	str_catc(line, ':');
	str_catu(line, msglen);
	str_catc(line, ' ');
	str_cats(line, j->domain);
	str_catc(line, ' ');
	str_cats(line, *sender ? sender : "<>");
	for (i = 0; i < j->n; i++) {
		str_catc(line, ' ');
		str_cats(line, j->env->rcpt[j->idx[i]]);
	}
	if (str_catc(line, '\n') == 0)
		r = 0;
out:
	str_free(&path);
	str_free(&dsn);
	return r;
}

static void
bounce(const struct jobspec *j, const struct queue_msg *m, struct str *out)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	struct dsn_report d;
	struct dsn_report_rcpt *r;
	struct str msg = STR_INIT, err = STR_INIT;
	size_t i, want;
	ssize_t got;
	const char *to[1], *mid = "report queued";
	char *e;
	int code;
	if (dsn_params_parse(&p, j->env->dsn, j->env->nrcpt) < 0 || !(r = calloc(j->n ? j->n : 1, sizeof *r)))
		die_nomem(EXIT_TEMP);
	for (i = 0; i < j->n; i++) {
		const struct queue_rstate *s = &j->st->r[j->idx[i]];
		r[i].rcpt = j->env->rcpt[j->idx[i]];
		r[i].orcpt = j->idx[i] < p.n && p.r[j->idx[i]].orcpt.len ? p.r[j->idx[i]].orcpt.s : NULL;
		r[i].action = strcmp(j->action, "delivered") != 0 ? j->action : s->status == QS_RELAYED_NOTIFY ? "relayed" :
		    s->status == QS_EXPANDED_NOTIFY ? "expanded" : "delivered";
		r[i].status = strcmp(s->dsn, "-") ? s->dsn : strcmp(j->action, "delayed") == 0 ? "4.0.0" :
		    strcmp(j->action, "delivered") == 0 ? "2.0.0" : "5.0.0";
		r[i].remote = s->host.len && strcmp(s->host.s, "-") ? s->host.s : NULL;
		r[i].diag = s->text.len ? s->text.s : NULL;
		r[i].last = s->last;
	}
	/* the original, capped: a full copy only when it is small enough or asked for */
	want = m->hdr.msglen > ORIG_FULL_MAX ? ORIG_FULL_MAX : (size_t)m->hdr.msglen;
	if (p.ret != DSN_RET_FULL && want > DSN_FULL_MAX)
		want = DSN_FULL_MAX;
	if (str_ready(&msg, want) < 0)
		die_nomem(EXIT_TEMP);
	got = pread(m->fd, msg.s, want, (off_t)m->hdr.msgoff);
	if (got < 0)
		die_sys(EXIT_TEMP, "read", "queue file");
	msg.len = (size_t)got;
	/* cut short (only its header goes back): end it with a whole line,
	 * never inside a field's line or a UTF-8 character */
	while (msg.len < m->hdr.msglen && msg.len && msg.s[msg.len - 1] != '\n')
		msg.len--;
	d.me = j->me;
	d.to = j->report_to;
	d.envid = p.envid.len ? p.envid.s : NULL;
	d.id = j->id;
	d.arrival = j->env->arrival;
	d.now = (unsigned long long)time(NULL);
	/* a delayed message is given up once a try past its lifetime fails */
	d.until = strcmp(j->action, "delayed") != 0 || j->cfg->lifetime > ULLONG_MAX - j->env->arrival ? 0 :
	    j->env->arrival + j->cfg->lifetime;
	d.r = r;
	d.n = j->n;
	/* RET is for failures: a report of none (success, delay) returns
	 * the header only (RFC 3461 4.3) */
	d.ret = msg.len < m->hdr.msglen || strcmp(j->action, "failed") != 0 ? DSN_RET_HDRS : p.ret;
	d.orig = msg.s ? msg.s : "";
	d.origlen = msg.len;
	{
		struct str rep = STR_INIT;
		if (dsn_report_make(&rep, &d) < 0)
			die_nomem(EXIT_TEMP);
		/* the report goes through queue-add as a message of its own */
		to[0] = j->report_to;
		code = inject(j, NULL, j->report_from, to, 1, rep.s, NULL, &err);
		/* queued: its Message-ID is the result's text, for queue-run's log */
		if (code == 0 && (e = strstr(rep.s, "\nMessage-ID: "))) {
			mid = e + 13;
			if ((e = strchr(mid, '\n')))
				*e = 0;
		}
		job_result_from_exit(out, 0, code, &err, code ? "queue-add failed" : mid);
		str_free(&rep);
	}
	str_free(&msg);
	str_free(&err);
	free(r);
	dsn_params_free(&p);
}

int
state_file_read(const char *id, const char *suffix, struct str *b)
{
	struct str p = STR_INIT;
	char tmp[8192];
	ssize_t n;
	int fd = -1;
	str_trunc(b, 0);
	if (str_copys(&p, id) == 0 && str_cats(&p, suffix) == 0)
		fd = queue_open_in("state", p.s, O_RDONLY, 0);
	str_free(&p);
	if (fd < 0)
		return -1;
	while (b->len < JOB_OUT_MAX && (n = read(fd, tmp, sizeof tmp)) > 0)
		str_catb(b, tmp, (size_t)n);
	close(fd);
	return 0;
}

/* queue-run is gone before it recorded res: leave the results for the
 * next one, unless it finished the message first (no other queue-run
 * can: we hold the lock). 0 ok, -1 not written. */
static int
leave_results(const char *id, const struct str *res)
{
	struct str p = STR_INIT;
	struct stat st;
	int fd, r = 0;
	if (queue_stat_in("mess", id, &st) < 0 && errno == ENOENT)
		return 0;
	if (str_copys(&p, id) < 0 || str_cats(&p, ".done") < 0) {
		str_free(&p);
		return -1;
	}
	fd = queue_open_in("state", p.s, O_RDWR | O_APPEND | O_CREAT, 0640);
	/* Other children of the message append beside us: one at a time,
	 * and on a line of our own. One whose write was cut short (a full
	 * disk, a kill) left a line without its end, which ours would
	 * continue: "1" and "0 ok ..." read as recipient 10's success. */
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0)
		r = -1;
	else {
		char last = '\n';
		if ((st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1) ||
		    (last != '\n' && buf_writeall(fd, "\n", 1, 0, 0) < 0) ||
		    buf_writeall(fd, res->s, res->len, 0, 0) < 0 || fsync(fd) < 0)
			r = -1;
		/* empty before us: made just now (or left empty), its name
		 * durable only once state/ is synced, or a power loss takes
		 * the results with it; once, not at every append */
		else if (st.st_size == 0 && queue_sync_in("state") < 0)
			r = -1;
	}
	if (fd >= 0)
		close(fd);   /* and so unlocked */
	str_free(&p);
	return r;
}

/* leave: the results may go to state/ID.done should queue-run be gone
 * (not when the queue file could not even be opened: a job that never
 * held its lock must not write beside a run that finished the message) */
static _Noreturn void
finish(const struct jobspec *j, int sock, const struct str *res, int leave)
{
	char c;
	ssize_t r;
	if (res->len && buf_writeall(sock, res->s, res->len, 0, 0) < 0 && errno != EPIPE)
		_exit(EXIT_TEMP);
	shutdown(sock, SHUT_WR);
	do
		r = read(sock, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 1 || j->kind == JOB_BOUNCE || !res->len || !leave)
		_exit(0);
	_exit(leave_results(j->id, res) < 0 ? EXIT_TEMP : 0);
}

static void
child_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGXFSZ, SIG_IGN);   /* past a file size limit: EFBIG and 111, not a dead child */
}

/* One job packet from queue-run on in, the queue file it names with it
 * (SCM_RIGHTS; *fdp -1 if none came): its length, 0 at end of input,
 * -1 on error. queue-run opened and share-locked that file before it sent
 * it: the lock lives in the open file, which stays open in flight, so it
 * is held from then on, even if queue-run is killed before we get here. */
static ssize_t
recv_job(int in, char *b, size_t size, int *fdp)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { b, size };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t r;
	*fdp = -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.space;
	mh.msg_controllen = sizeof u.space;
	do
		r = recvmsg(in, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fdp, CMSG_DATA(c), sizeof(int));
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fdp >= 0)
			close(*fdp);
		*fdp = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

static void
unable(const struct jobspec *j, struct str *res)
{
	size_t i;
	for (i = 0; i < j->n; i++)
		result_line(res, j->kind == JOB_BOUNCE ? 0 : j->idx[i], "temp", "4.3.0", "-",
		    "unable to open queue file", 25);
}

/* A persistent local delivery worker (queue-run(8)): the work of a local
 * job child, for one job after another, without a fork per message.
 * Jobs come on the packet socket in as "ID IDX...", each with its queue
 * file, opened and locked (recv_job); for each, the result lines and then
 * a line "." go to fd out, and the worker waits on in for queue-run's
 * "k" (the results are recorded), or "K" (and the message is finished:
 * empty its pooled file), before it lets go of the queue file. End of
 * input there instead means queue-run is gone: the results go to
 * state/ID.done, as a job child's do, and the worker ends. */
_Noreturn void
local_worker(const char *me, const struct cfg *cfg, int in, int out)
{
	static char packet[QUEUE_ID_MAX + JOB_RCPT_MAX * 21 + 2];
	struct str res = STR_INIT;
	size_t idx[JOB_RCPT_MAX];
	child_signals();
	for (;;) {
		struct jobspec j;
		struct queue_msg m;
		char *p, *sp, *end, id[QUEUE_ID_MAX + 1];
		size_t i, n = 0;
		int fd, opened;
		ssize_t r = recv_job(in, packet, sizeof packet - 1, &fd);
		char c;
		if (r <= 0)
			_exit(r == 0 ? 0 : EXIT_TEMP);
		end = packet + r;
		*end = 0;
		sp = memchr(packet, ' ', (size_t)r);
		if (!sp || (size_t)(sp - packet) > QUEUE_ID_MAX || strlen(packet) != (size_t)r)
			_exit(EXIT_TEMP);
		memcpy(id, packet, (size_t)(sp - packet));
		id[sp - packet] = 0;
		if (!queue_id_ok(id))
			_exit(EXIT_TEMP);
		for (p = sp + 1; p < end && n < JOB_RCPT_MAX; n++) {
			unsigned long long v;
			char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			if (scan_ulong(p, len, QUEUE_RCPT_MAX, &v) < 0)
				_exit(EXIT_TEMP);
			idx[n] = (size_t)v;
			p += len + (e != NULL);
		}
		memset(&j, 0, sizeof j);
		j.kind = JOB_LOCAL;
		j.id = id;
		j.idx = idx;
		j.n = n;
		j.me = me;
		j.cfg = cfg;
		str_trunc(&res, 0);
		opened = fd >= 0 && queue_msg_fdopen(&m, fd) > 0;
		if (!opened)
			unable(&j, &res);
		else {
			j.env = &m.env;
			for (i = 0; i < n; i++) {
				if (idx[i] >= m.env.nrcpt)   /* queue-run and the file disagree: never guess */
					result_line(&res, idx[i], "temp", "4.3.0", "-", "no such recipient", 17);
				else
					local_deliver(&j, &m, idx[i], &res);
			}
		}
		if (str_cats(&res, ".\n") < 0)
			_exit(EXIT_TEMP);
		r = buf_writeall(out, res.s, res.len, 0, 0);
		res.len -= 2;   /* the "." */
		if (r == 0) {
			do
				r = recv(in, &c, 1, 0);
			while (r < 0 && errno == EINTR);
		}
		if (r != 1 || (c != 'k' && c != 'K')) {
			/* queue-run is gone (EPIPE or end of input): the results
			 * stay, if we held the file (see finish) */
			if (opened && res.len)
				leave_results(id, &res);
			_exit(0);
		}
		/* "K": the message is finished and its file pooled; we empty it,
		 * still under our lock (queue_pool_empty), or a writer will */
		if (c == 'K' && opened && queue_pool_empty(id, m.fd) < 0) {
			/* the writer that takes it empties it */
		}
		if (opened)
			queue_msg_close(&m);
	}
}

void
job_run(const struct jobspec *j, int msgfd, int sock)
{
	struct queue_msg m;
	struct str res = STR_INIT;
	size_t i;
	child_signals();
	if (msgfd < 0 || queue_msg_fdopen(&m, msgfd) <= 0) {
		unable(j, &res);
		finish(j, sock, &res, 0);
	}
	switch (j->kind) {
	case JOB_LOCAL:
		for (i = 0; i < j->n; i++)
			local_deliver(j, &m, j->idx[i], &res);
		break;
	case JOB_REMOTE:
		remote(j, &m, &res);
		break;
	default:
		bounce(j, &m, &res);
	}
	finish(j, sock, &res, 1);
}
