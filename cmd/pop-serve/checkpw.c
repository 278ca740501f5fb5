/* A hung checkpassword (a stuck LDAP or NSS lookup) must not hold the
 * session and its client forever: pop-serve -k waits for it at most the
 * session timeout. The limit cannot cover the child's whole life, since
 * after a good password the same process is the subprogram serving the
 * session; so the subprogram reports its start on a pipe whose write end
 * checkpassword passes on like any other descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buf.h"
#include "checkpw.h"
#include "exitcode.h"
#include "fmt.h"
#include "scan.h"

#define READYFD "POPSERVE_READYFD"
enum { FD_FIRST = 4 };   /* above 0, 1 and 3, which the child sets up after this */

int
checkpw_child(int readyw, int group)
{
	char num[FMT_ULONG + 1];
	int fd;
	if (readyw < 0)   /* untimed: no pipe, and none a stale variable could name */
		return unsetenv(READYFD);
	if (group && setpgid(0, 0) < 0)
		return -1;
	fd = fcntl(readyw, F_DUPFD, FD_FIRST);   /* without close-on-exec */
	if (fd < 0)
		return -1;
	num[fmt_ulong(num, (unsigned long long)fd)] = '\0';
	return setenv(READYFD, num, 1);
}

static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
checkpw_wait(pid_t pid, int readyr, int limit_ms, int *status)
{
	long long deadline = buf_now_ms() + limit_ms;
	/* the child's exit ends the wait too: something it started (a daemon,
	 * a PAM helper) may hold the pipe long after it answered */
	int pfd;
	if (limit_ms <= 0) {   /* no limit, no pipe: qmail-popup's plain wait */
		if (reap(pid, status) < 0)
			*status = W_EXITCODE(EXIT_TEMP, 0);
		return CHECKPW_DONE;
	}
	pfd = (int)pidfd_open(pid, 0);
	struct pollfd p[2] = { { .fd = readyr, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
	for (;;) {
		long long left = deadline - buf_now_ms();
		char c;
		int r;
		if (left <= 0)
			break;
		r = poll(p, pfd < 0 ? 1 : 2, (int)left);   /* left <= limit_ms, an int */
		if ((r < 0 && errno == EINTR) || r == 0)
			continue;   /* the loop head tells whether the limit passed */
		if (r > 0 && !p[1].revents && read(readyr, &c, 1) < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* a byte, end of file, the child's exit, or an error poll or read
		 * cannot wait on: the rest is the subprogram's session, under its
		 * own timeouts */
		close(readyr);
		if (pfd >= 0)
			close(pfd);
		if (reap(pid, status) < 0)
			*status = W_EXITCODE(EXIT_TEMP, 0);
		return CHECKPW_DONE;
	}
	close(readyr);
	if (pfd >= 0)
		close(pfd);
	/* it may have ended while something it started holds the pipe */
	if (waitpid(pid, status, WNOHANG) == pid)
		return CHECKPW_DONE;
	(void)kill(-pid, SIGKILL);   /* checkpassword and what it started (no such group at a terminal) */
	(void)kill(pid, SIGKILL);    /* in case it left the group, or has none */
	if (reap(pid, status) < 0)
		*status = W_EXITCODE(EXIT_TEMP, 0);
	return CHECKPW_TIMEOUT;
}

void
checkpw_ready(void)
{
	const char *e = getenv(READYFD);
	unsigned long long v;
	struct stat st;
	if (!e)
		return;
	/* only a pipe above the standard descriptors: a stray variable must
	 * not make us write into the client's connection */
	if (scan_ulongz(e, 1000000, &v) == 0 && v >= FD_FIRST && fstat((int)v, &st) == 0 && S_ISFIFO(st.st_mode)) {
		if (write((int)v, "Y", 1) < 0) {
			/* the waiting pop-serve -k is gone: nothing to tell */
		}
		close((int)v);
	}
	unsetenv(READYFD);
}
