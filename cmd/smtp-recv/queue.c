/* The queue program: $QMAILQUEUE or queue-add, by the qmail-queue
 * protocol (message on its fd 0, envelope on its fd 1). The message is
 * streamed into the pipe as it arrives; a failed write is remembered, not
 * fatal, so the session still reads the client's data to its end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exitcode.h"
#include "scan.h"
#include "smtp.h"

static void
on_alarm(int sig)
{
	(void)sig;   /* only interrupts waitpid */
}

int
qprog_start(struct qprog *q, struct session *s)
{
	int m[2], e[2];
	const char *prog = getenv("QMAILQUEUE");
	if (!prog || !*prog)
		prog = "queue-add";
	if (str_0(&s->dsn) < 0)
		return -1;
	if (pipe2(m, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(m[0]);
		close(m[1]);
		return -1;
	}
	q->pid = fork();
	if (q->pid < 0) {
		close(m[0]);
		close(m[1]);
		close(e[0]);
		close(e[1]);
		return -1;
	}
	if (q->pid == 0) {
		char *argv[2] = { (char *)prog, NULL };
		const char *ctl = getenv("SSLCTLFD");
		unsigned int fd;
		/* the network fds 0/1 are replaced; the TLS control fd is
		 * CLOEXEC only if the wrapper made it so: close it */
		if (ctl && scan_uint(ctl, 1024, &fd) == 0 && fd > 2)
			close((int)fd);
		if (s->in.fd > 2)
			close(s->in.fd);
		if (s->out.fd > 2)
			close(s->out.fd);
		if (dup2(m[0], 0) < 0 || dup2(e[0], 1) < 0)
			_exit(QQ_TEMP_SPAWN);
		signal(SIGPIPE, SIG_DFL);
		if (setenv("PIPEMAIL_DSN", s->dsn.s, 1) < 0)
			_exit(QQ_TEMP_NOMEM);
		execvp(prog, argv);
		_exit(QQ_TEMP_SPAWN);
	}
	close(m[0]);
	close(e[0]);
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
	if (!q->failed && buf_put(&q->out, p, n) < 0)
		q->failed = 1;
}

static int
reap(struct qprog *q, int timeout_s)
{
	struct sigaction sa, old;
	int st = 0;
	pid_t r;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;   /* no SA_RESTART: the alarm breaks waitpid */
	sigaction(SIGALRM, &sa, &old);
	alarm((unsigned)timeout_s);
	r = waitpid(q->pid, &st, 0);
	alarm(0);
	if (r < 0 && errno == EINTR) {
		kill(q->pid, SIGKILL);
		r = waitpid(q->pid, &st, 0);
		st = -1;
	}
	sigaction(SIGALRM, &old, NULL);
	q->pid = -1;
	if (r < 0 || st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
qprog_finish(struct qprog *q, const char *env, size_t envlen, int timeout_s)
{
	int code;
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
	if (q->pid <= 0)
		return;
	/* kill first: closing the pipes alone would let it see a short message */
	kill(q->pid, SIGKILL);
	close(q->msgfd);
	close(q->envfd);
	(void)reap(q, 5);
}
