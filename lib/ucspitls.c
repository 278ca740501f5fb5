/* The protocol-server side of UCSPI-TLS. The wrapper (tls-serve,
 * sslserver -n, s6-ucspitlsd) gives us three fds in the environment; "Y"
 * on the control fd starts TLS and the cleartext then flows over the read
 * and write fds. TLS facts arrive as "K=V\0...\0\0" on the control fd,
 * maybe late or never, so they are gathered without blocking across
 * calls. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "scan.h"
#include "ucspitls.h"

enum {
	UCSPITLS_FD_MAX = 65535,
	UCSPITLS_INFO_MAX = 4096,   /* facts larger than this are ignored */
	UCSPITLS_READS_MAX = 16     /* reads per ucspitls_info call */
};

static struct {
	int ctlfd;                       /* -1 until ucspitls_start */
	char b[UCSPITLS_INFO_MAX];
	size_t len;
	int done;                        /* terminator, EOF, error or overflow seen */
} facts = { .ctlfd = -1 };

static int
envfd(const char *name)
{
	const char *s = getenv(name);
	unsigned int fd;
	if (!s || scan_uint(s, UCSPITLS_FD_MAX, &fd) < 0)
		return -1;
	if (fcntl((int)fd, F_GETFD) < 0)
		return -1;
	return (int)fd;
}

int
ucspitls_available(void)
{
	const char *u = getenv("UCSPITLS");
	if (u && strcmp(u, "-") == 0)   /* explicitly disabled, as acceptutils does */
		return 0;
	return envfd("SSLCTLFD") >= 0 && envfd("SSLREADFD") >= 0 && envfd("SSLWRITEFD") >= 0;
}

int
ucspitls_required(void)
{
	const char *u = getenv("UCSPITLS");
	return u && strcmp(u, "!") == 0;
}

int
ucspitls_implicit(void)
{
	const char *p = getenv("SSL_PROTOCOL");
	return p && *p;
}

int
ucspitls_start(int *rfd, int *wfd)
{
	int c = envfd("SSLCTLFD"), r = envfd("SSLREADFD"), w = envfd("SSLWRITEFD");
	ssize_t n;
	if (c < 0 || r < 0 || w < 0) {
		errno = EBADF;
		return -1;
	}
	/* Children of the server (queue-add, ...) must not hold these open:
	 * the wrapper would never see the session end. */
	(void)fcntl(c, F_SETFD, FD_CLOEXEC);
	(void)fcntl(r, F_SETFD, FD_CLOEXEC);
	(void)fcntl(w, F_SETFD, FD_CLOEXEC);
	do
		n = write(c, "Y", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	facts.ctlfd = c;
	facts.len = 0;
	facts.done = 0;
	*rfd = r;
	*wfd = w;
	return 0;
}

/* 1 when b[0..len) holds a whole record list ending in an empty record. */
static int
terminated(const char *b, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *z = memchr(b + i, '\0', len - i);
		if (!z)
			return 0;
		if (z == b + i)
			return 1;
		i = (size_t)(z - b) + 1;
	}
	return 0;
}

static void
gather(void)
{
	int i;
	for (i = 0; i < UCSPITLS_READS_MAX && !facts.done; i++) {
		struct pollfd p = { .fd = facts.ctlfd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 0) <= 0)
			return;
		if (facts.len == sizeof facts.b) {
			facts.done = 1;
			return;
		}
		n = read(facts.ctlfd, facts.b + facts.len, sizeof facts.b - facts.len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			facts.done = 1;
			return;
		}
		facts.len += (size_t)n;
		if (terminated(facts.b, facts.len))
			facts.done = 1;
	}
}

/* Finds "key=" at a record start among complete records. */
static const char *
lookup(const char *key, size_t *vlen)
{
	size_t klen = strlen(key), i = 0;
	while (i < facts.len) {
		const char *z = memchr(facts.b + i, '\0', facts.len - i);
		size_t rlen;
		if (!z)
			break;
		rlen = (size_t)(z - (facts.b + i));
		if (rlen == 0)
			break;
		if (rlen > klen && memcmp(facts.b + i, key, klen) == 0 && facts.b[i + klen] == '=') {
			*vlen = rlen - klen - 1;
			return facts.b + i + klen + 1;
		}
		i += rlen + 1;
	}
	return NULL;
}

int
ucspitls_info(struct str *protocol, struct str *cipher)
{
	const char *p, *c;
	size_t plen = 0, clen = 0;
	if (ucspitls_implicit()) {
		c = getenv("SSL_CIPHER");
		if (str_copys(protocol, getenv("SSL_PROTOCOL")) < 0 || str_copys(cipher, c ? c : "") < 0)
			return 0;
		return 1;
	}
	if (facts.ctlfd < 0)
		return 0;
	gather();
	p = lookup("SSL_PROTOCOL", &plen);
	if (!p || plen == 0)
		return 0;
	c = lookup("SSL_CIPHER", &clen);
	if (!c && !facts.done)   /* the cipher may still be on its way */
		return 0;
	if (str_copyb(protocol, p, plen) < 0 || str_copyb(cipher, c ? c : "", c ? clen : 0) < 0)
		return 0;
	return 1;
}
