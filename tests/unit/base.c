/* Unit tests for str, scan, buf, log, die. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "log.h"
#include "scan.h"
#include "str.h"
#include "tap.h"

static void
pipe_with(const char *data, size_t len, int *rfd)
{
	int p[2];
	if (pipe(p) < 0)
		exit(2);
	if (len && write(p[1], data, len) != (ssize_t)len)
		exit(2);
	close(p[1]);
	*rfd = p[0];
}

static void
test_str(void)
{
	struct str s = STR_INIT;
	ok(str_copys(&s, "abc") == 0 && s.len == 3, "str_copys");
	ok(str_catb(&s, "\0x", 2) == 0 && s.len == 5 && s.s[3] == 0 && s.s[4] == 'x', "str_catb keeps NUL");
	str_trunc(&s, 0);
	ok(str_catu(&s, 18446744073709551615ULL) == 0, "str_catu max");
	is_str(s.s, "18446744073709551615", "str_catu digits");
	str_trunc(&s, 0);
	str_catu(&s, 0);
	is_str(s.s, "0", "str_catu zero");
	ok(str_readyplus(&s, (size_t)-1) < 0 && errno == EOVERFLOW, "str_readyplus overflow refused");
	is_str(s.s, "0", "string unchanged after refused growth");
	str_copys(&s, "MiXeD");
	str_lower(&s);
	ok(str_eq(&s, "mixed"), "str_lower + str_eq");
	ok(!str_8bit("plain ascii\x7f", 12) && str_8bit("caf\xc3\xa9", 5) && !str_8bit("caf\xc3\xa9", 3), "str_8bit");
	str_free(&s);
}

static void
test_scan(void)
{
	unsigned long long v = 7;
	ok(scan_ulongz("0", 10, &v) == 0 && v == 0, "scan 0");
	ok(scan_ulongz("18446744073709551615", (unsigned long long)-1, &v) == 0 && v == 18446744073709551615ULL, "scan 2^64-1");
	v = 7;
	ok(scan_ulongz("18446744073709551616", (unsigned long long)-1, &v) < 0 && v == 7, "scan 2^64 refused");
	ok(scan_ulongz("99999999999999999999999", (unsigned long long)-1, &v) < 0, "scan huge refused");
	ok(scan_ulongz("", 10, &v) < 0, "scan empty refused");
	ok(scan_ulongz("-1", 10, &v) < 0, "scan sign refused");
	ok(scan_ulongz("+1", 10, &v) < 0, "scan plus refused");
	ok(scan_ulongz("1 ", 10, &v) < 0, "scan trailing space refused");
	ok(scan_ulongz("11", 10, &v) < 0, "scan above max refused");
	ok(scan_ulongz("10", 10, &v) == 0 && v == 10, "scan at max");
	/* a digit above a small max: max - d must not wrap */
	ok(scan_ulongz("7", 1, &v) < 0, "scan 7 with max 1 refused");
	ok(scan_ulongz("1", 1, &v) == 0 && v == 1, "scan 1 with max 1");
	ok(scan_ulongz("9", 0, &v) < 0, "scan 9 with max 0 refused");
	ok(scan_ulongz("18", 1, &v) < 0, "scan 18 with max 1 refused");
	ok(scan_ulong("123abc", 3, 1000, &v) == 0 && v == 123, "scan with length");
}

static void
test_getline(void)
{
	char space[8];   /* tiny buffer: lines span many fills */
	struct buf b;
	struct str line = STR_INIT;
	int fd;
	const char in[] = "one\r\ntwo\nthis line is far too long\nok\npart";
	pipe_with(in, sizeof in - 1, &fd);
	buf_init(&b, fd, space, sizeof space);
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_LINE, "line 1");
	is_str(line.s, "one\r", "line 1 bytes (CR kept)");
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_LINE, "line 2");
	is_str(line.s, "two", "line 2 bytes");
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_TOOLONG, "over-long line reported");
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_LINE, "next line after over-long one");
	is_str(line.s, "ok", "stream stays consistent");
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_PARTIAL, "line cut off by end of input");
	is_str(line.s, "part", "partial bytes kept");
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_EOF, "clean end of input");
	close(fd);

	pipe_with("exactly10!\n", 11, &fd);
	buf_init(&b, fd, space, sizeof space);
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_LINE, "line of exactly max bytes fits");
	close(fd);
	pipe_with("eleven1234!\n", 12, &fd);
	buf_init(&b, fd, space, sizeof space);
	is_int(buf_getline(&b, &line, 10, '\n'), BUF_TOOLONG, "max+1 bytes is too long");
	close(fd);
	str_free(&line);
}

static void
test_timeout(void)
{
	int p[2];
	char space[64];
	struct buf b;
	struct str line = STR_INIT;
	long long t0;
	if (pipe(p) < 0)
		exit(2);
	buf_init(&b, p[0], space, sizeof space);
	buf_timeout(&b, 50);
	t0 = buf_now_ms();
	errno = 0;
	is_int(buf_getline(&b, &line, 100, '\n'), BUF_ERR, "idle timeout is an error");
	ok(errno == ETIMEDOUT, "errno ETIMEDOUT");
	ok(buf_now_ms() - t0 >= 40, "waited for the timeout");
	buf_timeout(&b, 0);
	buf_deadline(&b, 30);
	is_int(buf_getline(&b, &line, 100, '\n'), BUF_ERR, "deadline is an error");
	close(p[0]);
	close(p[1]);
	str_free(&line);
}

static void
test_write(void)
{
	int p[2];
	char space[4];
	char got[64];
	struct buf b;
	ssize_t n;
	if (pipe(p) < 0)
		exit(2);
	buf_init(&b, p[1], space, sizeof space);
	ok(buf_puts(&b, "ab") == 0 && buf_puts(&b, "cdefgh") == 0 && buf_putu(&b, 42) == 0 && buf_flush(&b) == 0, "buffered writes");
	close(p[1]);
	n = read(p[0], got, sizeof got);
	is_mem(got, (size_t)n, "abcdefgh42", 10, "bytes arrive in order");
	close(p[0]);
}

/* A peer that never reads must not hang a writer past its timeout,
 * neither on a socket nor on a pipe. */
static void
test_stalled_reader(void)
{
	static char big[1 << 20];
	int sv[2], p[2];
	long long t0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0)
		exit(2);
	t0 = buf_now_ms();
	errno = 0;
	ok(buf_writeall(sv[0], big, sizeof big, 50, 0) < 0 && errno == ETIMEDOUT, "socket: stalled reader times out");
	ok(buf_now_ms() - t0 < 5000, "socket: within bounded time");
	t0 = buf_now_ms();
	errno = 0;
	ok(buf_writeall(p[1], big, sizeof big, 50, 0) < 0 && errno == ETIMEDOUT, "pipe: stalled reader times out");
	ok(buf_now_ms() - t0 < 5000, "pipe: within bounded time");
	close(sv[1]);
	errno = 0;
	ok(buf_writeall(sv[0], big, 10, 50, 0) < 0 && errno == EPIPE, "socket: closed peer is EPIPE, not SIGPIPE");
	close(sv[0]);
	close(p[0]);
	close(p[1]);
}

/* what f writes to stderr, at most cap - 1 bytes, NUL-terminated */
static size_t
capture_stderr(void (*f)(void), char *b, size_t cap)
{
	int p[2], saved = dup(2);
	ssize_t r;
	size_t n = 0;
	if (saved < 0 || pipe(p) < 0 || dup2(p[1], 2) < 0)
		exit(2);
	close(p[1]);
	f();
	dup2(saved, 2);
	close(saved);
	while (n < cap - 1 && (r = read(p[0], b + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	b[n] = 0;
	return n;
}

static void
warn_forged(void)
{
	warn_x("parse", "a\nx: event=forged", "bad\r\nreason");
}

static void
log_forged(void)
{
	struct logline l;
	log_begin(&l, "test");
	log_kv(&l, "user", "u\nx: event=forged k=v");
	log_kv(&l, "v", "a b=c");
	log_end(&l);
}

/* bytes a terminal would act on, from a HELO or an address */
static void
log_terminal(void)
{
	struct logline l;
	log_begin(&l, "test");
	log_kv(&l, "helo", "a\x9b" "2J\xc2\x9b" "2Jb\xe2\x80\xae" "evil\xff");
	log_kv(&l, "user", "j\xc3\xb6rg\xe2\x82\xac");
	log_end(&l);
}

static void
test_log_die(void)
{
	char b[512];
	size_t n;
	die_init("unit");
	n = capture_stderr(warn_forged, b, sizeof b);
	ok(n > 0 && memchr(b, '\n', n) == b + n - 1, "warn: data cannot start a new line");
	ok(!memchr(b, '\r', n), "warn: no CR from data");
	n = capture_stderr(log_forged, b, sizeof b);
	ok(n > 0 && memchr(b, '\n', n) == b + n - 1, "log: one line whatever the values");
	ok(strstr(b, " v=\"a b=c\"") != NULL, "log: a value with blanks and = is quoted");
	n = capture_stderr(log_terminal, b, sizeof b);
	ok(strstr(b, "helo=\"a\\x9b2J\\xc2\\x9b2Jb\\xe2\\x80\\xaeevil\\xff\"") != NULL,
	    "log: C1 controls raw or in UTF-8, bidi overrides and bytes that are no UTF-8 are escaped");
	ok(strstr(b, "user=\"j\xc3\xb6rg\xe2\x82\xac\"") != NULL, "log: printable UTF-8 stays as it is");
}

int
main(void)
{
	test_str();
	test_scan();
	test_getline();
	test_timeout();
	test_write();
	test_stalled_reader();
	test_log_die();
	return done();
}
