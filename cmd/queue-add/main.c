/* queue-add: the qmail-queue protocol into the pipemail queue.
 * Message on fd 0, envelope on fd 1 (F<sender>\0 T<rcpt>\0 ... \0).
 * One file per message, created in place under mess/, written once, the
 * header last; then one fsync of the file (which on a journalling file
 * system commits its directory entry too) and one of the directory.
 * Exit codes are qmail-queue(8)'s. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "queue.h"
#include "str.h"

enum { COPY_BUF = 65536, TIMEOUT_S = 86400, ID_TRIES = 20 };

static int messfd = -1, newfd = -1, filefd = -1;
static char id[QUEUE_ID_MAX + 1];

static void
cleanup(void)
{
	if (filefd >= 0) {
		unlinkat(newfd, id, 0);
		unlinkat(messfd, id, 0);
	}
}

static _Noreturn void
fail(int code, const char *verb, const char *obj)
{
	int e = errno;
	cleanup();
	errno = e;
	die_sys(code, verb, obj);
}

static _Noreturn void
failx(int code, const char *verb, const char *obj, const char *why)
{
	cleanup();
	die_x(code, verb, obj, why);
}

static void
on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(QQ_TEMP_TIMEOUT);
}

static int
opendir_fd(const char *sub)
{
	struct str p = STR_INIT;
	int fd;
	if (queue_path(&p, sub, NULL) < 0)
		die_nomem(QQ_TEMP_NOMEM);
	fd = open(p.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	str_free(&p);
	return fd;
}

static void
make_file(void)
{
	struct timeval tv;
	unsigned int i;
	struct str s = STR_INIT;
	for (i = 0; i < ID_TRIES; i++) {
		gettimeofday(&tv, NULL);
		str_trunc(&s, 0);
		if (str_catu(&s, (unsigned long long)tv.tv_sec) < 0 || str_catc(&s, '.') < 0 ||
		    str_catu(&s, (unsigned long long)tv.tv_usec) < 0 || str_catc(&s, '.') < 0 ||
		    str_catu(&s, (unsigned long long)getpid()) < 0)
			die_nomem(QQ_TEMP_NOMEM);
		if (i && (str_catc(&s, '.') < 0 || str_catu(&s, i) < 0))
			die_nomem(QQ_TEMP_NOMEM);
		if (s.len > QUEUE_ID_MAX)
			break;
		memcpy(id, s.s, s.len + 1);
		filefd = openat(messfd, id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (filefd >= 0) {
			str_free(&s);
			return;
		}
		if (errno != EEXIST)
			die_sys(errno == ENOSPC || errno == EDQUOT ? QQ_TEMP_WRITE : QQ_TEMP_QUEUE,
			    "create", "queue file");
	}
	die_x(QQ_TEMP_QUEUE, "create", "queue file", "no unique name");
}

static int
pwrite_all(int fd, const char *b, size_t n, off_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, b, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		b += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* fd 0 -> file at QUEUE_MSG_OFF; returns the message length, and its
 * CRC-32 in *crc */
static unsigned long long
copy_message(uLong *crc)
{
	static char b[COPY_BUF];
	unsigned long long total = 0;
	off_t off = QUEUE_MSG_OFF;
	for (;;) {
		ssize_t r = read(0, b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail(QQ_TEMP_READ, "read", "message");
		if (r == 0)
			return total;
		if (pwrite_all(filefd, b, (size_t)r, off) < 0)
			fail(QQ_TEMP_WRITE, "write", "queue file");
		*crc = crc32(*crc, (const Bytef *)b, (uInt)r);
		off += r;
		total += (unsigned long long)r;
	}
}

/* One envelope field from fd 1 into f (without its NUL). */
static void
get_field(struct buf *in, struct str *f)
{
	char c;
	str_trunc(f, 0);
	for (;;) {
		ssize_t r = buf_read(in, &c, 1);
		if (r < 0)
			fail(QQ_TEMP_READ, "read", "envelope");
		if (r == 0)
			failx(QQ_TEMP_READ, "read", "envelope", "truncated");
		if (c == 0)
			return;
		if (f->len > QUEUE_ADDR_MAX)
			failx(QQ_PERM_ADDR, "accept", "envelope", "address too long");
		if (str_catc(f, c) < 0)
			fail(QQ_TEMP_NOMEM, "read", "envelope");
	}
}

static void
check_addr(const struct str *a)
{
	size_t i;
	for (i = 1; i < a->len; i++)
		if ((unsigned char)a->s[i] < 0x20 || a->s[i] == 0x7f)
			failx(QQ_PERM_ENV, "accept", "envelope", "control character in address");
}

static void
read_envelope(struct str *sender, struct str *rcpts, size_t *nrcpt)
{
	static char space[BUF_SIZE];
	struct buf in;
	struct str f = STR_INIT;
	buf_init(&in, 1, space, sizeof space);
	get_field(&in, &f);
	if (f.len < 1 || f.s[0] != 'F')
		failx(QQ_PERM_ENV, "accept", "envelope", "no sender");
	check_addr(&f);
	if (str_copyb(sender, f.s + 1, f.len - 1) < 0)
		fail(QQ_TEMP_NOMEM, "read", "envelope");
	for (*nrcpt = 0;; ++*nrcpt) {
		get_field(&in, &f);
		if (f.len == 0)
			break;
		if (f.s[0] != 'T' || f.len < 2)
			failx(QQ_PERM_ENV, "accept", "envelope", "bad recipient field");
		if (*nrcpt >= QUEUE_RCPT_MAX)
			failx(QQ_PERM_ENV, "accept", "envelope", "too many recipients");
		check_addr(&f);
		if (str_catb(rcpts, f.s + 1, f.len - 1) < 0 || str_catc(rcpts, 0) < 0)
			fail(QQ_TEMP_NOMEM, "read", "envelope");
	}
	if (*nrcpt == 0)
		failx(QQ_PERM_ENV, "accept", "envelope", "no recipients");
	str_free(&f);
}

int
main(int argc, char **argv)
{
	struct str sender = STR_INIT, rcpts = STR_INIT, env = STR_INIT;
	struct queue_hdr h;
	char hdr[QUEUE_HDR_LEN];
	const char *dsn = getenv("PIPEMAIL_DSN");
	uLong crc;
	size_t nrcpt;

	(void)argc;
	die_init(argv[0] ? argv[0] : "queue-add");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(TIMEOUT_S);
	umask(027);

	messfd = opendir_fd("mess");
	newfd = opendir_fd("new");
	if ((messfd < 0 || newfd < 0) && errno == ENOENT && queue_init() == 0) {
		/* first use: queue_init is idempotent, so racing writers all succeed */
		if (messfd < 0)
			messfd = opendir_fd("mess");
		if (newfd < 0)
			newfd = opendir_fd("new");
	}
	if (messfd < 0 || newfd < 0)
		die_sys(QQ_TEMP_QUEUE, "open", "queue directory");
	if (dsn && strlen(dsn) > QUEUE_DSN_MAX)
		die_x(QQ_PERM_ENV, "accept", "PIPEMAIL_DSN", "too long");

	make_file();
	h.msgoff = QUEUE_MSG_OFF;
	crc = crc32(0L, Z_NULL, 0);
	h.msglen = copy_message(&crc);
	read_envelope(&sender, &rcpts, &nrcpt);
	if (queue_env_fmt(&env, (unsigned long long)time(NULL), (unsigned long long)getuid(),
	    dsn, sender.s, rcpts.s, rcpts.len) < 0)
		fail(QQ_TEMP_NOMEM, "format", "envelope");
	h.envlen = env.len;
	h.crc = crc32(crc, (const Bytef *)env.s, (uInt)env.len);
	h.has_crc = 1;
	h.envoff = QUEUE_HDR_LEN + env.len <= QUEUE_MSG_OFF ? QUEUE_HDR_LEN : QUEUE_MSG_OFF + h.msglen;
	if (pwrite_all(filefd, env.s, env.len, (off_t)h.envoff) < 0)
		fail(QQ_TEMP_WRITE, "write", "queue file");
	/* the header last: until it is there the file is not mail */
	if (queue_hdr_fmt(hdr, &h) < 0) {
		errno = EFBIG;
		fail(QQ_TEMP_WRITE, "format", "queue file header");
	}
	if (pwrite_all(filefd, hdr, sizeof hdr, 0) < 0)
		fail(QQ_TEMP_WRITE, "write", "queue file");
	if (linkat(messfd, id, newfd, id, 0) < 0)
		fail(errno == ENOSPC ? QQ_TEMP_WRITE : QQ_TEMP_QUEUE, "link", "queue file into new");
	if (fsync(filefd) < 0)
		fail(QQ_TEMP_WRITE, "sync", "queue file");
	if (fsync(messfd) < 0)
		fail(QQ_TEMP_QUEUE, "sync", "queue directory");
	if (close(filefd) < 0)
		fail(QQ_TEMP_WRITE, "close", "queue file");
	queue_trigger();
	return QQ_OK;
}
