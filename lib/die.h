/* One die/warn API, one message shape:
 *   PROG: fatal: unable to VERB OBJECT: reason
 *   PROG: warning: unable to VERB OBJECT: reason
 * Each message is written with a single write(2) to fd 2. */
#ifndef DIE_H
#define DIE_H

void die_init(const char *prog);     /* basename of argv[0] or a fixed name */
const char *die_prog(void);

_Noreturn void die_sys(int code, const char *verb, const char *obj);  /* reason = strerror(errno) */
_Noreturn void die_x(int code, const char *verb, const char *obj, const char *reason);
_Noreturn void die_msg(int code, const char *msg);                    /* PROG: fatal: msg */
_Noreturn void die_usage(const char *usage);                          /* PROG: usage: ...; exit 100 */
_Noreturn void die_nomem(int code);

void warn_sys(const char *verb, const char *obj);
void warn_x(const char *verb, const char *obj, const char *reason);
void warn_msg(const char *msg);

#endif
