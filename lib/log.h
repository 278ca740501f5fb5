/* key=value logging: one line per event on stderr, no timestamps
 * (s6-log adds them):  PROG: event=NAME key=value key="a value" ...
 * Values with spaces, quotes, '=' or control bytes are quoted with \xHH
 * escapes; each value is capped so one line stays bounded.
 * Never pass a password or message body here. */
#ifndef LOG_H
#define LOG_H

#include <limits.h>
#include <stddef.h>
#include "str.h"

/* A line is at most LOG_LINE_MAX bytes, newline included, written with
 * one write(2): a pipe takes up to PIPE_BUF bytes at once, so lines of
 * processes sharing a log pipe never interleave and s6-log never splits
 * one. A line that would be longer loses its last key=value pairs and
 * ends in " truncated=1". */
enum { LOG_VALUE_MAX = 256, LOG_LINE_MAX = PIPE_BUF };

struct logline {
	struct str s;
	int failed;
	size_t fit;   /* length at the last pair that left room for " truncated=1" */
};

void log_begin(struct logline *, const char *event);
void log_kv(struct logline *, const char *key, const char *val);   /* val may be NULL: skipped */
void log_kvb(struct logline *, const char *key, const char *val, size_t len);
void log_kvu(struct logline *, const char *key, unsigned long long val);
/* log_kv only while the line then leaves room bytes under LOG_LINE_MAX
 * (for the pairs still to come): 0 added, -1 not (the line unchanged) */
int log_kv_room(struct logline *, const char *key, const char *val, size_t room);
void log_end(struct logline *);   /* writes the line and frees it */

#endif
