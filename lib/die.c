/* Messages are assembled in a fixed buffer and truncated, never allocated:
 * dying must work when memory is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "termsafe.h"

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

/* Objects and reasons may come from data (a name, an address the user
 * typed, a peer's reply), and stderr is often a terminal: what termsafe
 * would not pass (a control byte that starts a forged log line, C1, bytes
 * that are no UTF-8, bidi overrides) is written as \xHH, as lib/log and
 * queue-list write it. The program's own text (a usage spans lines) may
 * keep its line feeds and tabs. Truncated between characters. */
static void
msg_cat_safe(struct msg *m, const char *s, int own)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	if (!s)
		return;
	n = strlen(s);
	while (i < n) {
		size_t room = sizeof m->b - 1 - m->len;   /* keep one byte for the newline */
		size_t k = termsafe_char(p + i, n - i);
		if (k == 0 && own && (p[i] == '\n' || p[i] == '\t'))
			k = 1;
		if (k == 0) {
			if (room < 4)
				break;
			m->b[m->len++] = '\\';
			m->b[m->len++] = 'x';
			m->b[m->len++] = hex[p[i] >> 4];
			m->b[m->len++] = hex[p[i] & 15];
			i++;
			continue;
		}
		if (k > room)
			break;
		memcpy(m->b + m->len, s + i, k);
		m->len += k;
		i += k;
	}
}

static void
emit(const char *kind, const char *verb, const char *obj, const char *reason)
{
	struct msg m = { .len = 0 };
	ssize_t w;
	msg_cat_safe(&m, progname, 0);   /* argv[0]: any name a link may have */
	msg_cat(&m, ": ");
	msg_cat(&m, kind);
	msg_cat(&m, ": ");
	if (verb) {
		msg_cat(&m, "unable to ");
		msg_cat(&m, verb);
		if (obj) {
			msg_cat(&m, " ");
			msg_cat_safe(&m, obj, 0);
		}
		if (reason)
			msg_cat(&m, ": ");
		msg_cat_safe(&m, reason, 0);
	} else {
		msg_cat_safe(&m, reason, 1);   /* the program's own text, with data in it at times */
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
