/* The per-user delivery file, in the spirit of qmail's .qmail: one
 * delivery per line, carried out in order.
 *   # comment           (blank lines are ignored too)
 *   ./Maildir/  /path/  a Maildir (must end in '/'); relative to the
 *                       user's Maildir, so "./" is the Maildir itself
 *                       and "./.Junk/" its Junk folder
 *   |command            run by /bin/sh -c as the user, message on stdin;
 *                       exit 0 next line, 99 stop (delivered), 100 bounce
 *                       (and 64 65 70 76 77 78 112, as qmail-command(8)),
 *                       anything else retry later
 *   &address  address   forward a copy
 * A path without a trailing '/' (an mbox) is refused. */
#ifndef DOTQMAIL_H
#define DOTQMAIL_H

#include <stddef.h>

enum { DOTQMAIL_LINE_MAX = 1000, DOTQMAIL_ENTRIES_MAX = 100, DOTQMAIL_FILE_MAX = 64 * 1024 };
enum { DQ_MAILDIR = 'm', DQ_PROGRAM = 'p', DQ_FORWARD = 'f' };

struct dotqmail_entry {
	char type;
	const char *arg;   /* NUL-terminated, points into the caller's buffer */
};

/* Parse buf (modified in place: lines are NUL-terminated; buf[len] must
 * be writable, so allocate len + 1). Returns the
 * number of entries (>= 0) or -1 on a malformed file (an mbox line, a
 * line too long, an empty forward, NUL bytes, too many entries). */
int dotqmail_parse(char *buf, size_t len, struct dotqmail_entry *out, size_t max);
/* the same; on -1, *line is the 1-based line at fault (0: the whole
 * file, NUL bytes or too big), for the owner to find it */
int dotqmail_parse_at(char *buf, size_t len, struct dotqmail_entry *out, size_t max, size_t *line);

#endif
