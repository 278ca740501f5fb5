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

/* Objects and reasons may come from data (a name, a peer's reply): a
 * control byte there must not start a forged log line. */
static void
msg_cat_data(struct msg *m, const char *s)
{
	size_t i, start = m->len;
	msg_cat(m, s);
	for (i = start; i < m->len; i++)
		if ((unsigned char)m->b[i] < ' ' || m->b[i] == 0x7f)
			m->b[i] = '?';
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
			msg_cat_data(&m, obj);
		}
		if (reason)
			msg_cat(&m, ": ");
		msg_cat_data(&m, reason);
	} else {
		msg_cat(&m, reason);   /* the program's own text (a usage may span lines) */
	}
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
