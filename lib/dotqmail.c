/* Delivery file parser: a line state machine over a bounded buffer. */
#include <string.h>
#include "dotqmail.h"

int
dotqmail_parse(char *buf, size_t len, struct dotqmail_entry *out, size_t max)
{
	return dotqmail_parse_at(buf, len, out, max, NULL);
}

int
dotqmail_parse_at(char *buf, size_t len, struct dotqmail_entry *out, size_t max, size_t *line)
{
	size_t i = 0, n = 0, dummy;
	if (!line)
		line = &dummy;
	*line = 0;
	if (len > DOTQMAIL_FILE_MAX || memchr(buf, 0, len))
		return -1;
	while (i < len) {
		char *s = buf + i, *nl = memchr(s, '\n', len - i);
		size_t l = nl ? (size_t)(nl - s) : len - i;
		i += l + 1;
		++*line;
		if (l > DOTQMAIL_LINE_MAX)
			return -1;
		while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
			l--;
		if (nl)
			*nl = 0;
		s[l] = 0;   /* inside the buffer: l < line length or at its newline */
		if (l == 0 || s[0] == '#')
			continue;
		if (n >= max)
			return -1;
		if (s[0] == '|') {
			if (l < 2)
				return -1;
			out[n].type = DQ_PROGRAM;
			out[n].arg = s + 1;
		} else if (s[0] == '/' || s[0] == '.') {
			if (s[l - 1] != '/')
				return -1;
			out[n].type = DQ_MAILDIR;
			out[n].arg = s;
		} else {
			const char *a = s[0] == '&' ? s + 1 : s;
			size_t k;
			if (!*a)
				return -1;
			for (k = 0; a[k]; k++)
				if ((unsigned char)a[k] <= ' ' || a[k] == 0x7f)
					return -1;
			out[n].type = DQ_FORWARD;
			out[n].arg = a;
		}
		n++;
	}
	return (int)n;
}
