#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "log.h"
#include "termsafe.h"

static const char trunc_mark[] = " truncated=1";

static void
cat(struct logline *l, const char *s, size_t n)
{
	if (!l->failed && str_catb(&l->s, s, n) < 0)
		l->failed = 1;
}

void
log_begin(struct logline *l, const char *event)
{
	const char *prog = die_prog();
	l->s = (struct str)STR_INIT;
	l->failed = 0;
	l->fit = 0;
	cat(l, prog, strlen(prog));
	cat(l, ": event=", 8);
	cat(l, event, strlen(event));
	if (l->s.len + sizeof trunc_mark <= LOG_LINE_MAX)
		l->fit = l->s.len;
}

static int
needs_quote(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\';
}

void
log_kvb(struct logline *l, const char *key, const char *val, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = len > LOG_VALUE_MAX ? LOG_VALUE_MAX : len;
	int quote = n == 0;
	for (i = 0; i < n && !quote; i++)
		quote = needs_quote((unsigned char)val[i]);
	cat(l, " ", 1);
	cat(l, key, strlen(key));
	cat(l, "=", 1);
	if (quote)
		cat(l, "\"", 1);
	for (i = 0; i < n;) {
		unsigned char c = (unsigned char)val[i];
		/* a log is read on a terminal (tail -f): what termsafe would
		 * not pass (controls, C1, bytes that are no UTF-8, bidi
		 * overrides from a HELO or an address) is escaped, as are
		 * the quote and the escape character */
		size_t k = c == '"' || c == '\\' ? 0 : termsafe_char((const unsigned char *)val + i, n - i);
		if (k == 0) {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			cat(l, esc, 4);
			i++;
		} else {
			cat(l, val + i, k);
			i += k;
		}
	}
	if (n < len)
		cat(l, "...", 3);
	if (quote)
		cat(l, "\"", 1);
	/* sizeof counts the newline */
	if (l->s.len + sizeof trunc_mark <= LOG_LINE_MAX)
		l->fit = l->s.len;
}

int
log_kv_room(struct logline *l, const char *key, const char *val, size_t room)
{
	size_t before = l->s.len, fit = l->fit;
	log_kv(l, key, val);
	if (!l->failed && l->s.len + 1 + room <= LOG_LINE_MAX)
		return 0;
	l->s.len = before;
	l->fit = fit;
	return -1;
}

void
log_kv(struct logline *l, const char *key, const char *val)
{
	if (val)
		log_kvb(l, key, val, strlen(val));
}

void
log_kvu(struct logline *l, const char *key, unsigned long long val)
{
	struct str t = STR_INIT;
	if (str_catu(&t, val) == 0)
		log_kvb(l, key, t.s, t.len);
	str_free(&t);
}

void
log_end(struct logline *l)
{
	if (!l->failed && l->s.len + 1 > LOG_LINE_MAX) {
		l->s.len = l->fit;
		cat(l, trunc_mark, sizeof trunc_mark - 1);
	}
	cat(l, "\n", 1);
	if (!l->failed) {
		size_t off = 0;
		/* one write: a pipe takes LOG_LINE_MAX (PIPE_BUF) bytes whole; the
		 * loop is for a file or terminal that takes less */
		while (off < l->s.len) {
			ssize_t w = write(2, l->s.s + off, l->s.len - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			off += (size_t)w;
		}
	}
	str_free(&l->s);
}
