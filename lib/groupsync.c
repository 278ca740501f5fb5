/* Group commit of directory syncs: see groupsync.h. Per directory (device
 * and inode) two counters: changes announced, and the announcements that a
 * finished fsync covers (those made before it started). A caller
 * announces its change, then returns as soon as a finished fsync covers
 * it, waits while one runs, or runs the next one itself. A process that
 * dies mid-fsync leaves "syncing" set: waiters give up on it after WAIT_MS
 * and sync themselves. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "groupsync.h"

enum { SLOTS = 64, WAIT_MS = 2000 };

struct slot {
	dev_t dev;
	ino_t ino;
	int used, syncing, waiters;
	unsigned long long changed, synced;
};

struct groupsync {
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct slot s[SLOTS];
	unsigned long long calls, syncs;
};

int (*groupsync_sync)(int) = fsync;

struct groupsync *
groupsync_new(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	struct groupsync *g = mmap(NULL, sizeof *g, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int r;
	if (g == MAP_FAILED)
		return NULL;
	memset(g, 0, sizeof *g);
	if ((r = pthread_mutexattr_init(&ma)) == 0) {
		if ((r = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED)) == 0 &&
		    (r = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST)) == 0)
			r = pthread_mutex_init(&g->mu, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	if (r == 0 && (r = pthread_condattr_init(&ca)) == 0) {
		if ((r = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED)) == 0 &&
		    (r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) == 0)
			r = pthread_cond_init(&g->done, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (r != 0) {
		munmap(g, sizeof *g);
		errno = r;
		return NULL;
	}
	return g;
}

/* the holder of the lock died: the table is only counters, still good */
static int
lock(struct groupsync *g)
{
	int r = pthread_mutex_lock(&g->mu);
	return r == EOWNERDEAD ? pthread_mutex_consistent(&g->mu) : r;
}

/* the directory's slot; a full table reuses an idle one (nobody syncing
 * or waiting there, so nobody holds its counters); NULL if none is idle */
static struct slot *
slot_get(struct groupsync *g, const struct stat *st)
{
	size_t h = (size_t)(((unsigned long long)st->st_ino * 0x9e3779b97f4a7c15ULL) >> 58) % SLOTS, i;
	struct slot *idle = NULL;
	for (i = 0; i < SLOTS; i++) {
		struct slot *s = &g->s[(h + i) % SLOTS];
		if (s->used && s->dev == st->st_dev && s->ino == st->st_ino)
			return s;
		if (!idle && (!s->used || (!s->syncing && !s->waiters)))
			idle = s;
	}
	if (idle) {
		memset(idle, 0, sizeof *idle);
		idle->used = 1;
		idle->dev = st->st_dev;
		idle->ino = st->st_ino;
	}
	return idle;
}

int
groupsync_fsync(struct groupsync *g, int fd)
{
	struct stat st;
	struct slot *s;
	struct timespec until;
	unsigned long long my;
	int r, e;
	if (!g || fstat(fd, &st) < 0 || lock(g) != 0)
		return groupsync_sync(fd);
	g->calls++;
	if (!(s = slot_get(g, &st))) {
		pthread_mutex_unlock(&g->mu);
		return groupsync_sync(fd);
	}
	my = ++s->changed;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += WAIT_MS / 1000;
	for (;;) {
		if (s->synced >= my) {   /* an fsync that started after our change is done */
			pthread_mutex_unlock(&g->mu);
			return 0;
		}
		if (!s->syncing)
			break;
		/* one runs: it covers us if it started after our change,
		 * else we run the next one once it is done */
		s->waiters++;
		r = pthread_cond_timedwait(&g->done, &g->mu, &until);
		s->waiters--;
		if (r == EOWNERDEAD)
			r = pthread_mutex_consistent(&g->mu);
		if (r == ETIMEDOUT) {
			s->syncing = 0;   /* its process is gone, or stuck: no longer wait for it */
			break;
		}
	}
	s->syncing = 1;
	my = s->changed;   /* what this fsync covers */
	g->syncs++;
	pthread_mutex_unlock(&g->mu);
	r = groupsync_sync(fd);
	e = errno;
	if (lock(g) == 0) {
		/* the slot is another directory's now if we were given up on */
		if (s->used && s->dev == st.st_dev && s->ino == st.st_ino) {
			s->syncing = 0;
			if (r == 0 && my > s->synced)
				s->synced = my;
		}
		pthread_cond_broadcast(&g->done);
		pthread_mutex_unlock(&g->mu);
	}
	errno = e;
	return r;
}

void
groupsync_counts(struct groupsync *g, unsigned long long *calls, unsigned long long *syncs)
{
	*calls = *syncs = 0;
	if (g && lock(g) == 0) {
		*calls = g->calls;
		*syncs = g->syncs;
		pthread_mutex_unlock(&g->mu);
	}
}
