/* pop-serve -k -w: waiting, within a limit, for checkpassword(8) to start
 * the subprogram; the subprogram (pop-serve -m) says when it has. */
#ifndef CHECKPW_H
#define CHECKPW_H

#include <sys/types.h>

enum { CHECKPW_DONE = 0, CHECKPW_TIMEOUT = 1 };

/* In the forked child, before exec: a process group of its own (when
 * group) and the write end of the ready pipe kept open across exec, its
 * number in $POPSERVE_READYFD; with readyw -1 (no limit) only the
 * variable removed. -1 on failure. */
int checkpw_child(int readyw, int group);
/* Waits for the child pid; with limit_ms 0, simply until it exits
 * (readyr unused). Else until a byte or end of file arrives on readyr
 * (the subprogram started, or everything holding the pipe is gone) or
 * the child exits, at most limit_ms; then without limit, as the subprogram serves the
 * session under its own timeouts. CHECKPW_DONE with *status, or
 * CHECKPW_TIMEOUT: the child's process group was killed and the child
 * reaped. Closes readyr. */
int checkpw_wait(pid_t pid, int readyr, int limit_ms, int *status);
/* In pop-serve -m: tell a waiting pop-serve -k that the session is ours
 * now; nothing without $POPSERVE_READYFD. */
void checkpw_ready(void);

#endif
