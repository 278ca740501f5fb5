/* The message made 7-bit for a peer without 8BITMIME (lib/mime7bit,
 * RFC 6152 3), as Postfix does by default: planned once per job, at the
 * first such peer (two reads of the message: what to encode, then the
 * size that makes on the wire, for SIZE), then run once more as the data
 * goes out (session.c). Constant memory, as the plain path. */
#include <stdlib.h>
#include "dotstuff.h"
#include "mime7bit.h"
#include "smtp-send.h"

int
conv_block(struct mime7bit *m, struct dotstuff *d, const char *in, size_t n, struct str *mid, struct str *out)
{
	mid->len = 0;
	if ((n ? mime7bit_put(m, in, n, mid) : mime7bit_end(m, mid)) < 0)
		return -1;
	if (mid->len && dotstuff_put(d, mid->s, mid->len, out) < 0)
		return -1;
	return n ? 0 : dotstuff_end(d, out);
}

/* One pass over the message: the first (wire NULL) or the second,
 * counting the bytes SIZE counts (as job.c's scan: no stuffed dots, no
 * final ".\r\n"). 0, or -1 with errno. */
static int
pass(struct job *j, struct mime7bit *m, unsigned long long *wire)
{
	struct dotstuff d;
	struct str mid = STR_INIT, out = STR_INIT;
	char *buf = malloc(READ_BUF_SIZE);
	unsigned long long left = j->size, total = 0;
	off_t off = j->msgoff;
	int r = -1;
	if (!buf)
		return -1;
	dotstuff_init(&d);
	for (;;) {
		ssize_t got = message_read(j, buf, READ_BUF_SIZE, &off, &left);
		if (got < 0)
			goto out;
		if (!wire) {
			if ((got ? mime7bit_put(m, buf, (size_t)got, NULL) : mime7bit_end(m, NULL)) < 0)
				goto out;
		} else {
			out.len = 0;
			if (conv_block(m, &d, buf, (size_t)got, &mid, &out) < 0)
				goto out;
			total += out.len;
		}
		if (!got)
			break;
	}
	if (wire)
		*wire = total - 3 - d.stuffed;
	r = 0;
out:
	free(buf);
	str_free(&mid);
	str_free(&out);
	return r;
}

int
conv_plan(struct job *j)
{
	struct mime7bit *m2;
	int r, same;
	conv_free(j);
	if (!(j->plan = malloc(sizeof *j->plan)))
		return -1;
	mime7bit_init(j->plan, NULL);
	if (pass(j, j->plan, NULL) < 0)
		return -1;
	if (j->plan->impossible)
		return 0;
	if (!(m2 = malloc(sizeof *m2)))
		return -1;
	mime7bit_init(m2, j->plan);
	r = pass(j, m2, &j->convsize);
	same = !m2->changed;   /* 8-bit bytes in header fields only: they go as they are */
	mime7bit_free(m2);
	free(m2);
	return r < 0 ? -1 : same ? 2 : 1;
}

void
conv_free(struct job *j)
{
	if (j->plan)
		mime7bit_free(j->plan);
	free(j->plan);
	j->plan = NULL;
	j->conv = 0;
}
