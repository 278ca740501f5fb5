/* queue-add: the qmail-queue protocol into the pipemail queue.
 * Message on fd 0, envelope on fd 1 (F<sender>\0 T<rcpt>\0 ... \0).
 * The writing is lib/qwrite's (smtp-recv does the same in-process when no
 * QMAILQUEUE is set); this is its reader. Exit codes are qmail-queue(8)'s. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "qwrite.h"
#include "str.h"

enum { COPY_BUF = 65536, TIMEOUT_S = 86400 };

static struct qwrite w;

static void
on_alarm(int sig)
{
	(void)sig;
	qwrite_abort(&w);
	_exit(QQ_TEMP_TIMEOUT);
}

/* SIGTERM, SIGINT, SIGHUP, SIGQUIT while the message or envelope is
 * read (a caller's timeout, a job killed with its process group): the
 * unfinished file goes, then the signal ends us as it would have; else
 * it stayed in mess/ until queue-run's next start */
static void
on_stop(int sig)
{
	qwrite_abort(&w);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int stop_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static _Noreturn void
failw(void)
{
	int code = w.code;
	qwrite_abort(&w);
	if (w.why)
		die_x(code, w.verb, w.obj, w.why);
	errno = w.err;
	die_sys(code, w.verb, w.obj);
}

static _Noreturn void
failx(int code, const char *verb, const char *obj, const char *why)
{
	qwrite_abort(&w);
	die_x(code, verb, obj, why);
}

/* qwrite_abort keeps errno for the message */
static _Noreturn void
fail(int code, const char *verb, const char *obj)
{
	qwrite_abort(&w);
	die_sys(code, verb, obj);
}

static void
copy_message(void)
{
	static char b[COPY_BUF];
	for (;;) {
		ssize_t r = read(0, b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {   /* a non-blocking fd 0: the writer is slower (test 250) */
			struct pollfd p = { .fd = 0, .events = POLLIN };
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				fail(QQ_TEMP_READ, "read", "message");
			continue;
		}
		if (r < 0)
			fail(QQ_TEMP_READ, "read", "message");
		if (r == 0)
			return;
		if (qwrite_put(&w, b, (size_t)r) != QQ_OK)
			failw();
	}
}

/* The envelope from fd 1, up to and with its terminating empty field,
 * bounded while it is read (lib/qwrite checks what it says). */
static void
read_envelope(struct str *env)
{
	static char space[BUF_SIZE];
	struct buf in;
	size_t field = 0, nfields = 0;
	buf_init(&in, 1, space, sizeof space);
	for (;;) {
		char c;
		ssize_t r = buf_read(&in, &c, 1);
		if (r < 0)
			fail(QQ_TEMP_READ, "read", "envelope");
		if (r == 0)
			failx(QQ_TEMP_READ, "read", "envelope", "truncated");
		if (str_catc(env, c) < 0) {
			qwrite_abort(&w);
			die_nomem(QQ_TEMP_NOMEM);
		}
		if (c == 0) {
			if (field == 0)
				return;   /* the empty field that ends it (first: no sender, qwrite says) */
			if (++nfields > QUEUE_RCPT_MAX + 1)
				failx(QQ_PERM_ENV, "accept", "envelope", "too many recipients");
			field = 0;
		} else if (++field > QUEUE_ADDR_MAX + 1)
			failx(QQ_PERM_ADDR, "accept", "envelope", "address too long");
	}
}

int
main(int argc, char **argv)
{
	struct str env = STR_INIT;
	sigset_t stop;
	size_t i;
	(void)argc;
	sigemptyset(&stop);
	die_init(argv[0] ? argv[0] : "queue-add");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);   /* a file size limit is EFBIG: exit 53, the file removed */
	signal(SIGALRM, on_alarm);
	for (i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++) {
		sigaddset(&stop, stop_sigs[i]);
		if (signal(stop_sigs[i], on_stop) == SIG_IGN)
			signal(stop_sigs[i], SIG_IGN);   /* nohup's and a background job's stay ignored */
	}
	alarm(TIMEOUT_S);
	umask(027);
	/* held off while the file is made: one that came as its open
	 * returned, before w knew of it, left it behind */
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (qwrite_open(&w) != QQ_OK)
		failw();
	sigprocmask(SIG_UNBLOCK, &stop, NULL);
	copy_message();
	read_envelope(&env);
	/* Whole now: from the header's write on, the file is mail a
	 * queue-run start takes, and from the notice on it is queued. A
	 * signal in between made our exit a failure the caller retries
	 * (sendmail holds its own signals off for this), queueing it twice:
	 * held off to the end, our status is the answer. */
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (qwrite_commit(&w, env.s, env.len, getenv("PIPEMAIL_DSN")) != QQ_OK)
		failw();
	return QQ_OK;
}
