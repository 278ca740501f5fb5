/* The TLS side of one connection: handshake, relay, close. libtls talks to
 * the network through callbacks that use MSG_DONTWAIT, so no file status
 * flag of the socket changes: before STARTTLS the protocol server shares
 * the same open socket, and O_NONBLOCK there would surprise it. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "tls-serve.h"

static ssize_t
net_read(struct tls *t, void *b, size_t n, void *arg)
{
	struct conn *c = arg;
	ssize_t r;
	(void)t;
	for (;;) {
		r = recv(c->netr, b, n, MSG_DONTWAIT);
		if (r < 0 && errno == ENOTSOCK) {   /* a pipe, in tests */
			(void)fcntl(c->netr, F_SETFL, fcntl(c->netr, F_GETFL) | O_NONBLOCK);
			r = read(c->netr, b, n);
		}
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TLS_WANT_POLLIN;
		if (errno != EINTR)
			return -1;
	}
}

static ssize_t
net_write(struct tls *t, const void *b, size_t n, void *arg)
{
	struct conn *c = arg;
	ssize_t r;
	(void)t;
	for (;;) {
		r = send(c->netw, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK) {
			(void)fcntl(c->netw, F_SETFL, fcntl(c->netw, F_GETFL) | O_NONBLOCK);
			r = write(c->netw, b, n);
		}
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TLS_WANT_POLLOUT;
		if (errno != EINTR)
			return -1;
	}
}

/* Waits for what libtls asked for (TLS_WANT_POLLIN/OUT) until deadline.
 * 1 ready, 0 deadline passed, -1 error. */
static int
net_wait(const struct conn *c, ssize_t want, long long deadline)
{
	struct pollfd p;
	for (;;) {
		long long left = deadline - buf_now_ms();
		int r;
		if (left <= 0)
			return 0;
		p.fd = want == TLS_WANT_POLLIN ? c->netr : c->netw;
		p.events = want == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* libtls's message lives in the context and changes on the next call:
 * keep a copy of the first one. */
static void
conn_fail(struct conn *c, struct tls *t)
{
	const char *e = tls_error(t);
	size_t n;
	if (c->reason[0] || !e)
		return;
	n = strlen(e);
	if (n >= sizeof c->reason)
		n = sizeof c->reason - 1;
	memcpy(c->reason, e, n);
	c->reason[n] = '\0';
}

int
conn_accept(struct conn *c, struct tls *server, int timeout_ms)
{
	long long deadline = buf_now_ms() + timeout_ms;
	int one = 1;
	/* whole records go out in one send each: Nagle would only hold the
	 * handshake's later flights back for a delayed ACK */
	(void)setsockopt(c->netw, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (tls_accept_cbs(server, &c->tls, net_read, net_write, c) < 0) {
		c->result = "accept";
		conn_fail(c, server);
		return -1;
	}
	for (;;) {
		int r = tls_handshake(c->tls), w;
		if (r == 0) {
			c->handshaken = 1;
			return 0;
		}
		if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) {
			c->result = "handshake";
			conn_fail(c, c->tls);
			return -1;
		}
		w = net_wait(c, r, deadline);
		if (w <= 0) {
			c->result = w == 0 ? "handshake-timeout" : "handshake";
			return -1;
		}
	}
}

/* One direction's cleartext, staged between a read and its write. */
struct half {
	char b[RELAY_BUF];
	size_t off, len;
};

struct relay {
	struct conn *c;
	struct half in, out;            /* in: client -> prog; out: prog -> client */
	ssize_t rd_want, wr_want;       /* what tls_read/tls_write wait for; 0 = try */
	int to_blocked, from_blocked;   /* prog pipes said EAGAIN */
	int net_eof, prog_eof;
	int prog_hup;                   /* prog closed its output; the pipe may still hold some */
	int failed;
};

static int
step_tls_read(struct relay *r)
{
	ssize_t n;
	if (r->net_eof || r->in.len || r->rd_want || r->c->to_prog < 0)
		return 0;
	n = tls_read(r->c->tls, r->in.b, sizeof r->in.b);
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		r->rd_want = n;
		return 0;
	}
	if (n < 0) {       /* truncation or a bad record: the client is gone */
		r->c->result = "read";
		conn_fail(r->c, r->c->tls);
		r->net_eof = 1;
		return 1;
	}
	if (n == 0) {
		r->net_eof = 1;
		return 1;
	}
	r->in.off = 0;
	r->in.len = (size_t)n;
	r->c->bytes_in += (unsigned long long)n;
	return 1;
}

static int
step_to_prog(struct relay *r)
{
	ssize_t n;
	if (r->c->to_prog < 0)
		return 0;
	if (r->in.off == r->in.len) {
		if (!r->net_eof)
			return 0;
		close(r->c->to_prog);    /* the client half-closed: prog sees EOF */
		r->c->to_prog = -1;
		return 1;
	}
	if (r->to_blocked)
		return 0;
	n = write(r->c->to_prog, r->in.b + r->in.off, r->in.len - r->in.off);
	if (n < 0) {
		if (errno == EINTR)
			return 1;        /* try again at once */
		if (errno == EAGAIN) {
			r->to_blocked = 1;
			return 0;
		}
		close(r->c->to_prog);    /* prog stopped reading: drop its input */
		r->c->to_prog = -1;
		r->in.off = r->in.len = 0;
		return 1;
	}
	r->in.off += (size_t)n;
	if (r->in.off == r->in.len)
		r->in.off = r->in.len = 0;
	return 1;
}

static int
step_from_prog(struct relay *r)
{
	ssize_t n;
	if (r->prog_eof || r->out.len || r->from_blocked)
		return 0;
	n = read(r->c->from_prog, r->out.b, sizeof r->out.b);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN) {
		r->from_blocked = 1;
		return 0;
	}
	if (n <= 0) {
		r->prog_eof = 1;
		return 1;
	}
	r->out.off = 0;
	r->out.len = (size_t)n;
	r->c->bytes_out += (unsigned long long)n;
	return 1;
}

static int
step_tls_write(struct relay *r)
{
	ssize_t n;
	if (r->out.off == r->out.len || r->wr_want)
		return 0;
	n = tls_write(r->c->tls, r->out.b + r->out.off, r->out.len - r->out.off);
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		r->wr_want = n;
		return 0;
	}
	if (n < 0) {
		r->c->result = "write";
		conn_fail(r->c, r->c->tls);
		r->failed = 1;
		return 1;
	}
	r->out.off += (size_t)n;
	if (r->out.off == r->out.len)
		r->out.off = r->out.len = 0;
	return 1;
}

/* Clears the waits that a poll result satisfies. Errors and hangups wake
 * everything, so the next step sees the failure. */
static void
wake(struct relay *r, const struct pollfd *p, int np)
{
	int i;
	for (i = 0; i < np; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == r->c->to_prog)
			r->to_blocked = 0;
		if (p[i].fd == r->c->from_prog) {
			r->from_blocked = 0;
			if (p[i].revents & (POLLHUP | POLLERR))
				r->prog_hup = 1;
		}
		if (p[i].fd == r->c->netr && (p[i].revents & ~POLLOUT)) {
			if (r->rd_want == TLS_WANT_POLLIN) r->rd_want = 0;
			if (r->wr_want == TLS_WANT_POLLIN) r->wr_want = 0;
		}
		if (p[i].fd == r->c->netw && (p[i].revents & ~POLLIN)) {
			if (r->rd_want == TLS_WANT_POLLOUT) r->rd_want = 0;
			if (r->wr_want == TLS_WANT_POLLOUT) r->wr_want = 0;
		}
	}
}

void
conn_relay(struct conn *c, int idle_ms, int flush_ms)
{
	static struct relay r;       /* 32 KB of buffers: off the stack */
	long long idle_end = buf_now_ms() + idle_ms, flush_end = 0;
	r = (struct relay){ .c = c };
	(void)fcntl(c->to_prog, F_SETFL, fcntl(c->to_prog, F_GETFL) | O_NONBLOCK);
	(void)fcntl(c->from_prog, F_SETFL, fcntl(c->from_prog, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[4];
		int np = 0, moved = 0, n;
		long long left;
		moved |= step_tls_read(&r);
		moved |= step_to_prog(&r);
		moved |= step_from_prog(&r);
		moved |= step_tls_write(&r);
		if (r.failed)
			return;
		if (r.prog_eof && r.out.off == r.out.len)
			return;              /* prog is done talking: close the session */
		if ((r.prog_eof || r.prog_hup) && !flush_end)
			idle_end = flush_end = buf_now_ms() + flush_ms;
		if (moved) {
			/* once prog is gone, its last output has a fixed deadline:
			 * a client that never reads cannot hold us by sending */
			idle_end = flush_end ? flush_end : buf_now_ms() + idle_ms;
			continue;
		}
		if (r.rd_want == TLS_WANT_POLLIN || r.wr_want == TLS_WANT_POLLIN)
			p[np++] = (struct pollfd){ .fd = c->netr, .events = POLLIN };
		if (r.rd_want == TLS_WANT_POLLOUT || r.wr_want == TLS_WANT_POLLOUT)
			p[np++] = (struct pollfd){ .fd = c->netw, .events = POLLOUT };
		if (r.to_blocked && c->to_prog >= 0)
			p[np++] = (struct pollfd){ .fd = c->to_prog, .events = POLLOUT };
		/* with no room to read into, still watch for prog closing its
		 * output (POLLHUP): a client that never reads keeps the buffer
		 * full, and must not keep us past the flush deadline */
		if (!r.prog_eof && (r.from_blocked || !r.prog_hup))
			p[np++] = (struct pollfd){ .fd = c->from_prog, .events = r.from_blocked ? POLLIN : 0 };
		left = idle_end - buf_now_ms();
		if (left <= 0 || np == 0) {
			c->result = !np ? "stalled" : flush_end ? "flush-timeout" : "idle-timeout";
			return;
		}
		n = poll(p, (nfds_t)np, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR) {
			c->result = "poll";
			return;
		}
		if (n > 0)
			wake(&r, p, np);
	}
}

void
conn_close(struct conn *c)
{
	long long deadline = buf_now_ms() + CLOSE_MS;
	char b[4096];
	if (c->tls) {
		for (;;) {
			int r = tls_close(c->tls);
			if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT)
				break;
			if (net_wait(c, r, deadline) <= 0)
				break;
		}
	}
	(void)shutdown(c->netw, SHUT_WR);
	if (!c->handshaken) {
		(void)shutdown(c->netr, SHUT_RDWR);
		return;
	}
	/* Unread input at close makes the kernel send RST, which throws away
	 * what of our last bytes is still in the send queue: read and drop
	 * what the client still sends until it closes, or the deadline. No
	 * cap on the bytes: a client still sending past one would cut off
	 * prog's answer (test 248); the deadline bounds the work. */
	for (;;) {
		ssize_t n = recv(c->netr, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (n > 0 ? buf_now_ms() >= deadline : net_wait(c, TLS_WANT_POLLIN, deadline) <= 0)
			break;
	}
	(void)shutdown(c->netr, SHUT_RDWR);
}
