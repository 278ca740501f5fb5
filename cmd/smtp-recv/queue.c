/* The queue program: $QMAILQUEUE by the qmail-queue protocol (message on
 * its fd 0, envelope on its fd 1), or, when QMAILQUEUE is unset or empty,
 * queue-add's own code (lib/qwrite) in this process: the same file, the
 * same fsyncs, the same exit codes, without a fork and an exec per message.
 * The message is streamed as it arrives; a failed write is remembered, not
 * fatal, so the session still reads the client's data to its end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "qwrite.h"
#include "scan.h"
#include "smtp.h"

static void
on_alarm(int sig)
{
	(void)sig;   /* only interrupts waitpid */
}

extern char **environ;

/* environ with PIPEMAIL_DSN set to dsn (replacing any inherited one) */
static char **
child_env(const char *dsn, struct str *var)
{
	size_t n = 0, i, j = 0;
	char **e;
	while (environ[n])
		n++;
	e = calloc(n + 2, sizeof *e);
	if (!e)
		return NULL;
	if (str_copys(var, "PIPEMAIL_DSN=") < 0 || str_cats(var, dsn) < 0 || str_0(var) < 0) {
		free(e);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "PIPEMAIL_DSN=", 13) != 0)
			e[j++] = environ[i];
	e[j++] = var->s;
	e[j] = NULL;
	return e;
}

/* what queue-add would have said on stderr */
static void
warn_inproc(const struct qwrite *w)
{
	if (w->why)
		warn_x(w->verb, w->obj, w->why);
	else {
		errno = w->err;
		warn_sys(w->verb, w->obj);
	}
}

static int
inproc_start(struct qprog *q)
{
	if (!q->w && !(q->w = malloc(sizeof *q->w)))
		return -1;
	umask(027);   /* as queue-add's */
	if (qwrite_open(q->w) != QQ_OK) {
		warn_inproc(q->w);
		return q->w->code;   /* 53 (no room) is answered as at the end */
	}
	q->pid = 0;
	q->failed = 0;
	return 0;
}

/* posix_spawn (a vfork underneath): no copy of this process per message.
 * 0, a qmail-queue code the in-process writer failed with, or -1. */
int
qprog_start(struct qprog *q, struct session *s)
{
	int m[2], e[2], r = -1;
	const char *prog = getenv("QMAILQUEUE");
	static const char *const fdvars[] = { "SSLCTLFD", "SSLREADFD", "SSLWRITEFD" };
	int fds[sizeof fdvars / sizeof fdvars[0] + 2];
	size_t i, nfd = 0;
	unsigned int u;
	char *argv[2];
	char **envp;
	struct str var = STR_INIT;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	q->inproc = 0;
	if (str_0(&s->dsn) < 0)
		return -1;
	if (!prog || !*prog) {
		q->inproc = 1;
		if ((r = inproc_start(q)) != 0)
			q->inproc = 0;
		return r;
	}
	argv[0] = (char *)prog;
	argv[1] = NULL;
	if (!(envp = child_env(s->dsn.s, &var)))
		return -1;
	if (pipe2(m, O_CLOEXEC) < 0) {
		free(envp);
		str_free(&var);
		return -1;
	}
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(m[0]);
		close(m[1]);
		free(envp);
		str_free(&var);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGALRM);
	/* dup2 clears CLOEXEC on 0 and 1; every other fd of ours is CLOEXEC
	 * or closed here: the UCSPI-TLS fds (before STARTTLS too, when they
	 * are not yet CLOEXEC) and the cleartext fds after it */
	for (i = 0; i < sizeof fdvars / sizeof fdvars[0]; i++) {
		const char *v = getenv(fdvars[i]);
		if (v && scan_uint(v, 65535, &u) == 0)
			fds[nfd++] = (int)u;
	}
	fds[nfd++] = s->in.fd;
	fds[nfd++] = s->out.fd;
	for (i = 0; i < nfd; i++) {
		size_t j;
		for (j = 0; j < i && fds[j] != fds[i]; j++)
			;
		if (fds[i] > 2 && j == i)
			posix_spawn_file_actions_addclose(&fa, fds[i]);
	}
	if (posix_spawn_file_actions_adddup2(&fa, m[0], 0) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, e[0], 1) == 0 &&
	    posix_spawnattr_setsigdefault(&at, &def) == 0 &&
	    posix_spawnattr_setpgroup(&at, 0) == 0 &&
	    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP) == 0)
		r = posix_spawnp(&q->pid, prog, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	str_free(&var);
	close(m[0]);
	close(e[0]);
	if (r != 0) {
		close(m[1]);
		close(e[1]);
		q->pid = -1;
		errno = r;
		warn_sys("run", prog);   /* the client hears only 451 */
		return -1;
	}
	q->msgfd = m[1];
	q->envfd = e[1];
	q->failed = 0;
	buf_init(&q->out, q->msgfd, q->space, sizeof q->space);
	buf_timeout(&q->out, s->o.data_timeout * 1000);
	return 0;
}

void
qprog_write(struct qprog *q, const char *p, size_t n)
{
	if (q->inproc) {
		(void)qwrite_put(q->w, p, n);   /* a failure is kept for the commit */
		return;
	}
	if (!q->failed && buf_put(&q->out, p, n) < 0)
		q->failed = 1;
}

/* The queue program runs in a process group of its own (qprog_start), and
 * every kill is of the whole group: a filter such as `spamcheck -q
 * queue-add` killed alone leaves its queue-add to see the end of a
 * message cut short, with the envelope already written, and to queue it
 * while the client is told 451 (PR_SET_PDEATHSIG in the filter does not
 * survive a setgid queue-add). The group outlives its leader only while
 * the leader is not reaped, so it is waited for with WNOWAIT first. */
static void
kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);   /* not a group leader after all: the pid, as before */
}

static int
reap(struct qprog *q, int timeout_s)
{
	struct sigaction sa, old;
	siginfo_t si;
	int st = -1, r;
	memset(&sa, 0, sizeof sa);
	memset(&si, 0, sizeof si);
	sa.sa_handler = on_alarm;   /* no SA_RESTART: the alarm breaks waitid */
	sigaction(SIGALRM, &sa, &old);
	alarm((unsigned)timeout_s);
	r = waitid(P_PID, (id_t)q->pid, &si, WEXITED | WNOWAIT);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	/* too slow, or failed: what it left running can only queue a copy
	 * the client is told was not queued */
	if (r < 0 ? errno == EINTR : si.si_code != CLD_EXITED || si.si_status != QQ_OK)
		kill_group(q->pid);
	if (r == 0 && si.si_code == CLD_EXITED)
		st = si.si_status;
	while (waitpid(q->pid, NULL, 0) < 0 && errno == EINTR)
		;
	q->pid = -1;
	return st;
}

int
qprog_finish(struct qprog *q, const char *env, size_t envlen, const char *dsn, int timeout_s)
{
	int code;
	if (q->inproc) {
		code = qwrite_commit(q->w, env, envlen, dsn);
		if (code != QQ_OK) {
			warn_inproc(q->w);
			qwrite_abort(q->w);
		}
		q->inproc = 0;
		return code;
	}
	if (!q->failed && buf_flush(&q->out) < 0)
		q->failed = 1;
	close(q->msgfd);
	if (!q->failed && buf_writeall(q->envfd, env, envlen, timeout_s * 1000, 0) < 0)
		q->failed = 1;
	close(q->envfd);
	code = reap(q, timeout_s);
	/* a write that failed while it exited 0 cannot be trusted as queued */
	if (q->failed && code == QQ_OK)
		return -1;
	return code;
}

void
qprog_abort(struct qprog *q)
{
	if (q->inproc) {
		qwrite_abort(q->w);
		q->inproc = 0;
		return;
	}
	if (q->pid <= 0)
		return;
	/* kill first: closing the pipes alone would let it see a short message */
	kill_group(q->pid);
	close(q->msgfd);
	close(q->envfd);
	(void)reap(q, 5);
}
