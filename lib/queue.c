/* Queue layout and file format (see queue.h). Readers never trust a
 * length from the file: every offset is checked against the file size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "queue.h"
#include "scan.h"

const char *
queue_dir(void)
{
	const char *d = getenv("PIPEMAIL_QUEUE");
	return d && *d ? d : "/var/spool/pipemail";
}

int
queue_path(struct str *out, const char *sub, const char *id)
{
	if (str_copys(out, queue_dir()) < 0 || str_catc(out, '/') < 0 || str_cats(out, sub) < 0)
		return -1;
	if (id && (str_catc(out, '/') < 0 || str_cats(out, id) < 0))
		return -1;
	return 0;
}

int
queue_init(void)
{
	static const char *const sub[] = { "mess", "new", "state", "tmp" };
	struct str p = STR_INIT;
	size_t i;
	int r = -1;
	if (mkdir(queue_dir(), 0750) < 0 && errno != EEXIST)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (queue_path(&p, sub[i], NULL) < 0 || (mkdir(p.s, 0750) < 0 && errno != EEXIST))
			goto out;
	if (queue_path(&p, "trigger", NULL) < 0 || (mkfifo(p.s, 0620) < 0 && errno != EEXIST))
		goto out;
	r = 0;
out:
	str_free(&p);
	return r;
}

int
queue_id_ok(const char *id)
{
	size_t i;
	for (i = 0; id[i]; i++)
		if (i >= QUEUE_ID_MAX || !((id[i] >= '0' && id[i] <= '9') || id[i] == '.'))
			return 0;
	return i > 0 && id[0] != '.';
}

/* one decimal field ending at a space or newline; advances *p */
static int
field(const char **p, const char *end, unsigned long long *v)
{
	const char *s = *p, *q = s;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (q == s || q == end || (*q != ' ' && *q != '\n'))
		return -1;
	if (scan_ulong(s, (size_t)(q - s), (unsigned long long)1 << 62, v) < 0)
		return -1;
	*p = q + 1;
	return 0;
}

int
queue_hdr_parse(const char *b, size_t n, struct queue_hdr *h)
{
	const char *p = b, *end;
	if (n < QUEUE_HDR_LEN || memcmp(b, "PMQ1 ", 5) != 0 || b[QUEUE_HDR_LEN - 1] != '\n')
		return -1;
	end = b + QUEUE_HDR_LEN;
	p += 5;
	if (field(&p, end, &h->msgoff) < 0 || field(&p, end, &h->msglen) < 0 ||
	    field(&p, end, &h->envoff) < 0 || field(&p, end, &h->envlen) < 0)
		return -1;
	if (p[-1] == '\n') {
		if (p != end)
			return -1;
	} else {
		while (p < end - 1)
			if (*p++ != ' ')
				return -1;
	}
	if (h->envlen < 1 || h->msgoff < QUEUE_HDR_LEN || h->envoff < QUEUE_HDR_LEN)
		return -1;
	/* the two regions must not overlap (values are < 2^62, so sums fit) */
	if (!(h->envoff + h->envlen <= h->msgoff || h->msgoff + h->msglen <= h->envoff))
		return -1;
	return 0;
}

void
queue_hdr_fmt(char *out, const struct queue_hdr *h)
{
	char tmp[QUEUE_HDR_LEN];
	size_t n = 0;
	unsigned long long v[4] = { h->msgoff, h->msglen, h->envoff, h->envlen };
	int i, k;
	/* formatted by hand into a fixed buffer: four numbers < 2^62 fit */
	memset(out, ' ', QUEUE_HDR_LEN);
	memcpy(out, "PMQ1", 4);
	n = 4;
	for (i = 0; i < 4; i++) {
		k = 0;
		do
			tmp[k++] = (char)('0' + v[i] % 10);
		while ((v[i] /= 10) && k < 20);
		out[n++] = ' ';
		while (k)
			out[n++] = tmp[--k];
	}
	out[QUEUE_HDR_LEN - 1] = '\n';
}

static int
bad(void)
{
	errno = EINVAL;
	return -1;
}

int
queue_env_parse(struct queue_env *e, const char *b, size_t n)
{
	size_t i, len, cap = 0, nr = 0;
	const char *f, *end;
	const char **r = NULL;
	unsigned long long v;
	int have_f = 0;
	queue_env_free(e);
	if (str_copyb(&e->raw, b, n) < 0)
		return -1;
	f = e->raw.s;
	end = f + n;
	for (;;) {
		const char *z = memchr(f, 0, (size_t)(end - f));
		if (!z)
			goto fail;
		len = (size_t)(z - f);
		if (len == 0)
			break;
		switch (f[0]) {
		case 'A': case 'U':
			if (have_f || scan_ulong(f + 1, len - 1, (unsigned long long)-1, &v) < 0)
				goto fail;
			if (f[0] == 'A')
				e->arrival = v;
			else
				e->uid = v;
			break;
		case 'D':
			if (have_f)
				goto fail;
			e->dsn = f + 1;
			break;
		case 'F':
			if (have_f || len - 1 > QUEUE_ADDR_MAX)
				goto fail;
			e->sender = f + 1;
			have_f = 1;
			break;
		case 'T':
			if (!have_f || len - 1 > QUEUE_ADDR_MAX || nr >= QUEUE_RCPT_MAX)
				goto fail;
			if (nr == cap) {
				const char **nr_;
				cap = cap ? cap * 2 : 8;
				nr_ = realloc(r, cap * sizeof *r);
				if (!nr_) {
					free(r);
					queue_env_free(e);
					errno = ENOMEM;
					return -1;
				}
				r = nr_;
			}
			r[nr++] = f + 1;
			break;
		default:
			goto fail;
		}
		f = z + 1;
	}
	if (!have_f || nr == 0 || f + 1 != end)
		goto fail;
	for (i = 0; i < nr; i++)
		if (!r[i][0])
			goto fail;
	e->rcpt = r;
	e->nrcpt = nr;
	return 0;
fail:
	free(r);
	queue_env_free(e);
	return bad();
}

void
queue_env_free(struct queue_env *e)
{
	str_free(&e->raw);
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = 0;
	e->dsn = "";
	e->sender = NULL;
	e->arrival = e->uid = 0;
}

int
queue_env_fmt(struct str *out, unsigned long long arrival, unsigned long long uid,
    const char *dsn, const char *sender, const char *rcpts, size_t rcptslen)
{
	str_trunc(out, 0);
	if (str_catc(out, 'A') < 0 || str_catu(out, arrival) < 0 || str_catc(out, 0) < 0 ||
	    str_catc(out, 'U') < 0 || str_catu(out, uid) < 0 || str_catc(out, 0) < 0)
		return -1;
	if (dsn && *dsn && (str_catc(out, 'D') < 0 || str_cats(out, dsn) < 0 || str_catc(out, 0) < 0))
		return -1;
	if (str_catc(out, 'F') < 0 || str_cats(out, sender) < 0 || str_catc(out, 0) < 0)
		return -1;
	while (rcptslen) {
		size_t l = strnlen(rcpts, rcptslen);
		if (str_catc(out, 'T') < 0 || str_catb(out, rcpts, l) < 0 || str_catc(out, 0) < 0)
			return -1;
		if (l == rcptslen)
			break;
		rcpts += l + 1;
		rcptslen -= l + 1;
	}
	return str_catc(out, 0);
}

static int
pread_all(int fd, char *b, size_t n, off_t off)
{
	while (n) {
		ssize_t r = pread(fd, b, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		b += r;
		n -= (size_t)r;
		off += r;
	}
	return 1;
}

int
queue_msg_open(struct queue_msg *m, const char *path)
{
	char h[QUEUE_HDR_LEN];
	struct stat st;
	char *env = NULL;
	int r;
	m->env = (struct queue_env)QUEUE_ENV_INIT;
	m->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (m->fd < 0)
		return -1;
	if (fstat(m->fd, &st) < 0)
		goto err;
	m->size = (unsigned long long)st.st_size;
	r = pread_all(m->fd, h, sizeof h, 0);
	if (r < 0)
		goto err;
	if (r == 0 || queue_hdr_parse(h, sizeof h, &m->hdr) < 0)
		goto notmail;
	/* complete iff both regions lie inside the file and one ends it */
	if (m->hdr.envoff + m->hdr.envlen > m->size || m->hdr.msgoff + m->hdr.msglen > m->size)
		goto notmail;
	if (m->hdr.envoff + m->hdr.envlen != m->size && m->hdr.msgoff + m->hdr.msglen != m->size)
		goto notmail;
	if (m->hdr.envlen > (unsigned long long)QUEUE_RCPT_MAX * (QUEUE_ADDR_MAX + 2) + QUEUE_DSN_MAX + 256)
		goto notmail;
	env = malloc((size_t)m->hdr.envlen);
	if (!env)
		goto err;
	r = pread_all(m->fd, env, (size_t)m->hdr.envlen, (off_t)m->hdr.envoff);
	if (r < 0)
		goto err;
	if (r == 0 || queue_env_parse(&m->env, env, (size_t)m->hdr.envlen) < 0) {
		if (errno == ENOMEM)
			goto err;
		goto notmail;
	}
	free(env);
	return 1;
notmail:
	free(env);
	close(m->fd);
	m->fd = -1;
	return 0;
err:
	r = errno;
	free(env);
	close(m->fd);
	m->fd = -1;
	errno = r;
	return -1;
}

void
queue_msg_close(struct queue_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	queue_env_free(&m->env);
}

void
queue_trigger(void)
{
	struct str p = STR_INIT;
	int fd;
	if (queue_path(&p, "trigger", NULL) < 0)
		return;
	/* O_NONBLOCK: open fails with ENXIO when no reader instead of waiting */
	fd = open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	str_free(&p);
	if (fd < 0)
		return;
	if (write(fd, "", 1) < 0) {
		/* a full pipe already holds a wakeup */
	}
	close(fd);
}
