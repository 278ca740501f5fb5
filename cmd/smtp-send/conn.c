#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "conn.h"

enum { QUIET_MS = 2 };   /* how long a quiet answer stands (conn_unasked_again) */

static int
waitfor(struct conn *c, short ev)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = ev };
		long long left = c->deadline - buf_now_ms();
		int r;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

void
conn_deadline(struct conn *c, int ms)
{
	c->deadline = buf_now_ms() + ms;
}

int
conn_open(struct conn *c, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int err = 0;
	socklen_t elen = sizeof err;
	c->tls = NULL;
	c->rpos = c->rlen = c->wlen = 0;
	c->quiet = 0;
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	conn_deadline(c, timeout_ms);
	if (connect(c->fd, sa, len) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		if (waitfor(c, POLLOUT) < 0)
			goto fail;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			goto fail;
		if (err) {
			errno = err;
			goto fail;
		}
	}
	return 0;
fail:
	err = errno;
	close(c->fd);
	c->fd = -1;
	errno = err;
	return -1;
}

/* >0 bytes, 0 EOF, -1 error */
static ssize_t
rawread(struct conn *c, char *p, size_t n)
{
	c->quiet = 0;
	for (;;) {
		ssize_t r;
		if (c->tls) {
			r = tls_read(c->tls, p, n);
			if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
				if (waitfor(c, r == TLS_WANT_POLLIN ? POLLIN : POLLOUT) < 0)
					return -1;
				continue;
			}
			if (r < 0)
				errno = EPROTO;
			return r;
		}
		r = read(c->fd, p, n);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (waitfor(c, POLLIN) < 0)
			return -1;
	}
}

static int
rawwrite(struct conn *c, const char *p, size_t n)
{
	c->quiet = 0;
	while (n > 0) {
		ssize_t w;
		if (c->tls) {
			w = tls_write(c->tls, p, n);
			if (w == TLS_WANT_POLLIN || w == TLS_WANT_POLLOUT) {
				if (waitfor(c, w == TLS_WANT_POLLIN ? POLLIN : POLLOUT) < 0)
					return -1;
				continue;
			}
			if (w < 0) {
				errno = EPIPE;
				return -1;
			}
		} else {
			w = write(c->fd, p, n);
			if (w < 0) {
				if (errno != EAGAIN && errno != EINTR)
					return -1;
				if (waitfor(c, POLLOUT) < 0)
					return -1;
				continue;
			}
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
conn_getline(struct conn *c, struct str *line, size_t max)
{
	int toolong = 0;
	line->len = 0;
	for (;;) {
		char *start = c->rbuf + c->rpos;
		size_t have = c->rlen - c->rpos;
		char *nl = memchr(start, '\n', have);
		size_t take = nl ? (size_t)(nl - start) : have;
		ssize_t r;
		if (!toolong) {
			if (take > max - line->len)
				toolong = 1;
			else if (str_catb(line, start, take) < 0)
				return BUF_ERR;
		}
		c->rpos += take;
		if (nl) {
			c->rpos++;
			if (toolong)
				return BUF_TOOLONG;
			if (line->len && line->s[line->len - 1] == '\r')
				line->len--;
			return str_0(line) < 0 ? BUF_ERR : BUF_LINE;
		}
		c->rpos = c->rlen = 0;
		r = rawread(c, c->rbuf, sizeof c->rbuf);
		if (r < 0)
			return BUF_ERR;
		if (r == 0)
			return BUF_EOF;   /* a half line at the end is no reply either */
		c->rlen = (size_t)r;
	}
}

int
conn_flush(struct conn *c)
{
	size_t n = c->wlen;
	c->wlen = 0;
	return rawwrite(c, c->wbuf, n);
}

int
conn_put(struct conn *c, const char *p, size_t n)
{
	if (n > sizeof c->wbuf - c->wlen) {
		if (conn_flush(c) < 0)
			return -1;
		if (n >= sizeof c->wbuf)
			return rawwrite(c, p, n);
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

int
conn_puts(struct conn *c, const char *s)
{
	return conn_put(c, s, strlen(s));
}

void
conn_discard(struct conn *c)
{
	c->rpos = c->rlen = 0;
}

int
conn_unasked(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char b[512];
	ssize_t r;
	c->quiet = 0;
	if (c->rpos < c->rlen)
		return CONN_UNASKED;
	if (poll(&p, 1, 0) == 0) {
		c->quiet = buf_now_ms();
		return CONN_QUIET;
	}
	/* a close after the last reply is no reply out of step: the caller
	 * may trust what it read */
	if (!c->tls) {
		r = recv(c->fd, b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return CONN_UNASKED;   /* readable a moment ago: not quiet */
		return r > 0 ? CONN_UNASKED : CONN_CLOSED;
	}
	/* TLS: a record that carries no data (a session ticket) is no reply */
	r = tls_read(c->tls, b, sizeof b);
	return r == TLS_WANT_POLLIN ? CONN_QUIET : r == 0 || r == -1 ? CONN_CLOSED : CONN_UNASKED;
}

int
conn_unasked_again(struct conn *c)
{
	if (c->quiet && c->rpos >= c->rlen && buf_now_ms() - c->quiet < QUIET_MS)
		return 0;
	return conn_unasked(c);
}

int
conn_starttls(struct conn *c, struct tls_config *cfg, const char *servername, struct str *err)
{
	const char *e;
	c->quiet = 0;
	c->tls = tls_client();
	if (!c->tls) {
		str_copys(err, "unable to allocate a TLS context");
		return -1;
	}
	if (tls_configure(c->tls, cfg) < 0 || tls_connect_socket(c->tls, c->fd, servername) < 0)
		goto fail;
	for (;;) {
		int r = tls_handshake(c->tls);
		if (r == 0)
			return 0;
		if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
			if (waitfor(c, r == TLS_WANT_POLLIN ? POLLIN : POLLOUT) < 0) {
				str_copys(err, "TLS handshake timed out");
				goto out;
			}
			continue;
		}
		goto fail;
	}
fail:
	e = tls_error(c->tls);
	str_copys(err, e ? e : "TLS handshake failed");
out:
	tls_free(c->tls);
	c->tls = NULL;
	return -1;
}

void
conn_close(struct conn *c)
{
	if (c->tls) {
		/* close_notify, best effort within the deadline */
		for (int i = 0; i < 4; i++) {
			int r = tls_close(c->tls);
			if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT)
				break;
			if (waitfor(c, r == TLS_WANT_POLLIN ? POLLIN : POLLOUT) < 0)
				break;
		}
		tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
