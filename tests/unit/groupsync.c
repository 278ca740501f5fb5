/* lib/groupsync: directory syncs shared among processes. A slow sync
 * (put in groupsync_sync) makes the overlaps certain. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "groupsync.h"
#include "tap.h"

static int slow_ms;

static int
slow_sync(int fd)
{
	struct timespec ts = { slow_ms / 1000, (long)(slow_ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	return fsync(fd);
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a child that syncs dirfd through g and exits 0 if that returned 0 */
static pid_t
syncer(struct groupsync *g, int fd)
{
	pid_t p = fork();
	if (p == 0)
		_exit(groupsync_fsync(g, fd) == 0 ? 0 : 1);
	return p;
}

static int
all_ok(pid_t *p, int n)
{
	int i, st, good = 1;
	for (i = 0; i < n; i++)
		if (waitpid(p[i], &st, 0) != p[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			good = 0;
	return good;
}

int
main(void)
{
	char dir[] = "/tmp/groupsync-unit.XXXXXX";
	unsigned long long c0, s0, c1, s1;
	struct groupsync *g;
	pid_t p[8];
	double t;
	int fd, i;

	if (!mkdtemp(dir) || (fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		ok(0, "scratch directory");
		return done();
	}
	ok(groupsync_fsync(NULL, fd) == 0, "no table: a plain fsync");
	g = groupsync_new();
	ok(g != NULL, "a shared table");
	if (!g)
		return done();
	ok(groupsync_fsync(g, fd) == 0, "alone: synced");
	groupsync_counts(g, &c0, &s0);
	ok(c0 == 1 && s0 == 1, "one call, one sync");
	errno = 0;
	ok(groupsync_fsync(g, -1) < 0 && errno == EBADF, "a bad descriptor fails as fsync does");

	/* one runs a 400 ms sync; four more change the directory 100 ms into
	 * it: that sync started before their changes, so it covers none of
	 * them; one sync after it covers all four */
	groupsync_sync = slow_sync;
	slow_ms = 400;
	groupsync_counts(g, &c0, &s0);
	p[0] = syncer(g, fd);
	pause_ms(100);
	for (i = 1; i < 5; i++)
		p[i] = syncer(g, fd);
	ok(all_ok(p, 5), "five processes: each synced");
	groupsync_counts(g, &c1, &s1);
	is_int(c1 - c0, 5, "five calls");
	ok(s1 - s0 >= 2, "a sync that started before a change never counts for it");
	ok(s1 - s0 <= 3, "the four waiting share the next sync");
	if (s1 - s0 < 2 || s1 - s0 > 3)
		printf("#   syncs: %llu\n", s1 - s0);

	/* the syncing process dies mid-sync: the next one waits a while
	 * (2 s) for it, then syncs itself */
	slow_ms = 5000;
	p[0] = syncer(g, fd);
	pause_ms(100);
	kill(p[0], SIGKILL);
	waitpid(p[0], NULL, 0);
	slow_ms = 0;
	t = now();
	p[1] = syncer(g, fd);
	ok(all_ok(p + 1, 1), "after a syncer died mid-sync: synced");
	t = now() - t;
	ok(t < 4.5, "and not stuck waiting for the dead one");
	t = now();
	ok(groupsync_fsync(g, fd) == 0 && now() - t < 1.0, "later calls do not wait at all");

	close(fd);
	rmdir(dir);
	return done();
}
