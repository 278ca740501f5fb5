/* Group commit of directory syncs among related processes (queue-run's
 * local workers): a process that has just linked a file into a directory
 * needs an fsync of that directory that starts after its link. When
 * several deliver into one directory at once, one fsync started after all
 * their links serves them all; the others wait for it instead of issuing
 * their own. The table lives in shared memory made before the fork. */
#ifndef GROUPSYNC_H
#define GROUPSYNC_H

struct groupsync;

/* A table shared with the children forked after this; NULL (errno) if
 * shared memory or process-shared locks are not to be had. */
struct groupsync *groupsync_new(void);

/* fsync(fd), fd a directory just changed by the caller, or the wait for
 * another process's fsync of it that started after the call began.
 * 0 or -1 errno, as fsync. With g NULL, plain fsync. */
int groupsync_fsync(struct groupsync *g, int fd);

/* calls so far, and the fsyncs they took (for logs and tests) */
void groupsync_counts(struct groupsync *g, unsigned long long *calls, unsigned long long *syncs);

/* the sync itself: fsync; tests put a slow one here */
extern int (*groupsync_sync)(int);

#endif
