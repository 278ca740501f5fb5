/* Messages are assembled in a fixed buffer and truncated, never allocated:
 * dying must work when memory is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"

enum { DIE_MSG_MAX = 1024 };

static const char *progname = "pipemail";

void
die_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	progname = slash ? slash + 1 : prog;
}

const char *
die_prog(void)
{
	return progname;
}

struct msg {
	char b[DIE_MSG_MAX];
	size_t len;
};

static void
msg_cat(struct msg *m, const char *s)
{
	size_t room, n;
	if (!s)
		return;
	room = sizeof m->b - 1 - m->len;   /* keep one byte for the newline */
	n = strlen(s);
	if (n > room)
		n = room;
	memcpy(m->b + m->len, s, n);
	m->len += n;
}

static void
emit(const char *kind, const char *verb, const char *obj, const char *reason)
{
	struct msg m = { .len = 0 };
	ssize_t w;
	msg_cat(&m, progname);
	msg_cat(&m, ": ");
	msg_cat(&m, kind);
	msg_cat(&m, ": ");
	if (verb) {
		msg_cat(&m, "unable to ");
		msg_cat(&m, verb);
		if (obj) {
			msg_cat(&m, " ");
			msg_cat(&m, obj);
		}
		if (reason)
			msg_cat(&m, ": ");
	}
	msg_cat(&m, reason);
	m.b[m.len++] = '\n';
	do
		w = write(2, m.b, m.len);
	while (w < 0 && errno == EINTR);
}

void
die_sys(int code, const char *verb, const char *obj)
{
	emit("fatal", verb, obj, strerror(errno));
	_exit(code);
}

void
die_x(int code, const char *verb, const char *obj, const char *reason)
{
	emit("fatal", verb, obj, reason);
	_exit(code);
}

void
die_msg(int code, const char *msg)
{
	emit("fatal", NULL, NULL, msg);
	_exit(code);
}

void
die_usage(const char *usage)
{
	emit("usage", NULL, NULL, usage);
	_exit(EXIT_PERM);
}

void
die_nomem(int code)
{
	emit("fatal", NULL, NULL, "out of memory");
	_exit(code);
}

void
warn_sys(const char *verb, const char *obj)
{
	emit("warning", verb, obj, strerror(errno));
}

void
warn_x(const char *verb, const char *obj, const char *reason)
{
	emit("warning", verb, obj, reason);
}

void
warn_msg(const char *msg)
{
	emit("warning", NULL, NULL, msg);
}
