/* Waiting uses poll(2) with whichever is nearer: the idle timeout or the
 * absolute deadline, so a client that trickles one byte a minute still
 * meets the deadline. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "buf.h"
#include "fmt.h"

long long
buf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
buf_init(struct buf *b, int fd, char *space, size_t cap)
{
	b->fd = fd;
	b->p = space;
	b->cap = cap;
	b->pos = b->len = 0;
	b->timeout_ms = 0;
	b->deadline_ms = 0;
	b->eof = 0;
	b->wkind = -1;
}

void
buf_timeout(struct buf *b, int timeout_ms)
{
	b->timeout_ms = timeout_ms;
}

void
buf_deadline(struct buf *b, int ms_from_now)
{
	b->deadline_ms = ms_from_now > 0 ? buf_now_ms() + ms_from_now : 0;
}

/* 1 ready, -1 error or timeout (errno ETIMEDOUT) */
static int
wait_fd(int fd, short events, int timeout_ms, long long deadline_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		long long wait = -1;
		int r;
		if (timeout_ms > 0)
			wait = timeout_ms;
		if (deadline_ms > 0) {
			long long left = deadline_ms - buf_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (wait < 0 || left < wait)
				wait = left;
		}
		if (wait < 0)
			return 1;   /* no limit: let the blocking call wait */
		r = poll(&pfd, 1, (int)wait);
		if (r > 0)
			return 1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* Wait until fd is ready for events (takes more bytes, has some); with
 * no limit set, for as long as it takes. */
static int
wait_ready(int fd, short events, int timeout_ms, long long deadline_ms)
{
	if (timeout_ms <= 0 && deadline_ms <= 0) {
		struct pollfd pfd = { .fd = fd, .events = events };
		while (poll(&pfd, 1, -1) < 0)
			if (errno != EINTR)
				return -1;
		return 1;
	}
	return wait_fd(fd, events, timeout_ms, deadline_ms);
}

static ssize_t
read_some(struct buf *b, char *out, size_t n)
{
	for (;;) {
		ssize_t r;
		if (wait_fd(b->fd, POLLIN, b->timeout_ms, b->deadline_ms) < 0)
			return -1;
		r = read(b->fd, out, n);
		if (r >= 0)
			return r;
		if (errno != EINTR && errno != EAGAIN)
			return -1;
		/* with no limit wait_fd lets read block, which a non-blocking
		 * fd does not: poll, not spin (test 250) */
		if (errno == EAGAIN && wait_ready(b->fd, POLLIN, b->timeout_ms, b->deadline_ms) < 0)
			return -1;
	}
}

ssize_t
buf_fill(struct buf *b)
{
	ssize_t r;
	if (b->pos > 0) {
		memmove(b->p, b->p + b->pos, b->len - b->pos);
		b->len -= b->pos;
		b->pos = 0;
	}
	if (b->len == b->cap) {
		errno = ENOBUFS;   /* caller asked for more than the buffer holds */
		return -1;
	}
	r = read_some(b, b->p + b->len, b->cap - b->len);
	if (r == 0)
		b->eof = 1;
	if (r > 0)
		b->len += (size_t)r;
	return r;
}

size_t
buf_pending(const struct buf *b)
{
	return b->len - b->pos;
}

void
buf_discard(struct buf *b)
{
	b->pos = b->len = 0;
}

ssize_t
buf_read(struct buf *b, char *out, size_t n)
{
	size_t have = b->len - b->pos;
	if (n == 0)
		return 0;
	if (have == 0) {
		if (n >= b->cap)   /* large reads bypass the buffer */
			return read_some(b, out, n);
		ssize_t r = buf_fill(b);
		if (r <= 0)
			return r;
		have = b->len - b->pos;
	}
	if (n > have)
		n = have;
	memcpy(out, b->p + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

int
buf_getline(struct buf *b, struct str *line, size_t max, char sep)
{
	int toolong = 0;
	line->len = 0;
	for (;;) {
		char *start = b->p + b->pos;
		size_t have = b->len - b->pos;
		char *nl = have ? memchr(start, sep, have) : NULL;
		size_t take = nl ? (size_t)(nl - start) : have;
		if (!toolong) {
			if (take > max - line->len) {   /* line->len <= max always holds */
				toolong = 1;
				line->len = 0;
			} else if (str_catb(line, start, take) < 0) {
				return BUF_ERR;
			}
		}
		b->pos += take;
		if (nl) {
			b->pos++;   /* the separator */
			if (toolong)
				return BUF_TOOLONG;
			if (str_0(line) < 0)
				return BUF_ERR;
			return BUF_LINE;
		}
		{
			ssize_t r = buf_fill(b);
			if (r < 0)
				return BUF_ERR;
			if (r == 0) {
				if (toolong)
					return BUF_TOOLONG;
				if (str_0(line) < 0)
					return BUF_ERR;
				return line->len ? BUF_PARTIAL : BUF_EOF;
			}
		}
	}
}

/* A blocking write(2) to a peer that stopped reading would hang past every
 * deadline even after poll(2) said POLLOUT, since POLLOUT promises room for
 * some bytes, not for n. Sockets get send(MSG_DONTWAIT); pipes with a time
 * limit get at most PIPE_BUF bytes after POLLOUT, which is what POLLOUT
 * promises there (without a limit, a blocking write is what was asked);
 * regular files and terminals do not block on a reader. */
static int
writeall(int fd, const char *p, size_t n, int timeout_ms, long long deadline_ms, int *kind)
{
	int fifo = *kind;   /* -1 socket or unknown, 0 other, 1 pipe */
	while (n > 0) {
		ssize_t w;
		if (fifo < 0) {
			w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				struct stat st;
				fifo = *kind = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
				continue;
			}
		} else if (fifo && (timeout_ms > 0 || deadline_ms > 0)) {
			if (wait_ready(fd, POLLOUT, timeout_ms, deadline_ms) < 0)
				return -1;
			w = write(fd, p, n > PIPE_BUF ? PIPE_BUF : n);
		} else {   /* no limit to keep: blocking is allowed, EAGAIN waits below */
			w = write(fd, p, n);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_ready(fd, POLLOUT, timeout_ms, deadline_ms) < 0)
				return -1;
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
buf_writeall(int fd, const char *p, size_t n, int timeout_ms, long long deadline_ms)
{
	int kind = -1;
	return writeall(fd, p, n, timeout_ms, deadline_ms, &kind);
}

int
buf_flush(struct buf *b)
{
	size_t n = b->len;
	b->len = 0;
	return writeall(b->fd, b->p, n, b->timeout_ms, b->deadline_ms, &b->wkind);
}

int
buf_put(struct buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->len) {
		if (buf_flush(b) < 0)
			return -1;
		if (n >= b->cap)
			return writeall(b->fd, s, n, b->timeout_ms, b->deadline_ms, &b->wkind);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int
buf_putu(struct buf *b, unsigned long long u)
{
	char tmp[FMT_ULONG];
	return buf_put(b, tmp, fmt_ulong(tmp, u));
}
