/* key=value logging: one line per event on stderr, no timestamps
 * (s6-log adds them):  PROG: event=NAME key=value key="a value" ...
 * Values with spaces, quotes, '=' or control bytes are quoted with \xHH
 * escapes; each value is capped so one line stays bounded.
 * Never pass a password or message body here. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include "str.h"

enum { LOG_VALUE_MAX = 256 };

struct logline {
	struct str s;
	int failed;
};

void log_begin(struct logline *, const char *event);
void log_kv(struct logline *, const char *key, const char *val);   /* val may be NULL: skipped */
void log_kvb(struct logline *, const char *key, const char *val, size_t len);
void log_kvu(struct logline *, const char *key, unsigned long long val);
void log_end(struct logline *);   /* writes the line and frees it */

#endif
