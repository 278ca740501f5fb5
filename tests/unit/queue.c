/* Unit tests for lib/queue (header, envelope, state, results, ids) and
 * lib/dotqmail. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dotqmail.h"
#include "queue.h"
#include "tap.h"

static void
test_hdr(void)
{
	struct queue_hdr h = { 4096, 123, 64, 40, 0, 0 }, g;
	char b[QUEUE_HDR_LEN];
	queue_hdr_fmt(b, &h);
	ok(memcmp(b, "PMQ1 4096 123 64 40 ", 20) == 0 && b[QUEUE_HDR_LEN - 1] == '\n', "header format");
	ok(queue_hdr_parse(b, sizeof b, &g) == 0 && g.msgoff == h.msgoff && g.msglen == h.msglen &&
	    g.envoff == h.envoff && g.envlen == h.envlen && !g.has_crc, "header round trip");
	b[3] = '2';
	ok(queue_hdr_parse(b, sizeof b, &g) < 0, "wrong magic refused");
	queue_hdr_fmt(b, &h);
	b[QUEUE_HDR_LEN - 1] = ' ';
	ok(queue_hdr_parse(b, sizeof b, &g) < 0, "missing newline refused");
	queue_hdr_fmt(b, &h);
	ok(queue_hdr_parse(b, sizeof b - 1, &g) < 0, "short header refused");
	h.envoff = 4100;   /* inside the message */
	queue_hdr_fmt(b, &h);
	ok(queue_hdr_parse(b, sizeof b, &g) < 0, "overlapping regions refused");
	memcpy(b, "PMQ1 99999999999999999999 1 64 1", 32);
	ok(queue_hdr_parse(b, sizeof b, &g) < 0, "huge offset refused");
	h = (struct queue_hdr){ 4096, 123, 64, 40, 4294967295ULL, 1 };
	ok(queue_hdr_fmt(b, &h) == 0, "header with CRC formats");
	ok(memcmp(b, "PMQ1 4096 123 64 40 4294967295 ", 31) == 0, "CRC is the fifth field");
	ok(queue_hdr_parse(b, sizeof b, &g) == 0 && g.has_crc && g.crc == 4294967295ULL, "CRC parsed");
	memcpy(b, "PMQ1 4096 123 64 40 4294967296 ", 31);
	ok(queue_hdr_parse(b, sizeof b, &g) < 0, "CRC above 32 bits refused");
	h = (struct queue_hdr){ 1ULL << 61, 1ULL << 61, 1ULL << 61, 1ULL << 61, 1, 1 };
	ok(queue_hdr_fmt(b, &h) < 0, "fields that do not fit are refused, not overflowed");
}

static void
test_env(void)
{
	struct queue_env e = QUEUE_ENV_INIT;
	struct str s = STR_INIT;
	static const char good[] = "A1700000000\0U0\0DRET=HDRS\nNOTIFY=NEVER\n\0Fa@b\0Tc@d\0Te@f\0";
	ok(queue_env_parse(&e, good, sizeof good) == 0, "envelope parses");
	is_int(e.arrival, 1700000000, "arrival");
	is_str(e.sender, "a@b", "sender");
	is_int(e.nrcpt, 2, "two recipients");
	is_str(e.rcpt[1], "e@f", "second recipient");
	is_str(e.dsn, "RET=HDRS\nNOTIFY=NEVER\n", "dsn text");
	ok(queue_env_fmt(&s, 1700000000, 0, "RET=HDRS\nNOTIFY=NEVER\n", "a@b", "c@d\0e@f", 7) == 0 &&
	    s.len == sizeof good && memcmp(s.s, good, s.len) == 0, "format matches parse");
	ok(queue_env_parse(&e, "F\0Tx\0", 6) == 0 && !*e.sender, "null sender");
	ok(queue_env_parse(&e, "Fa\0\0", 4) < 0, "no recipient refused");
	ok(queue_env_parse(&e, "Ta\0Fb\0\0", 7) < 0, "recipient before sender refused");
	ok(queue_env_parse(&e, "Fa\0Tb\0", 6) < 0, "no terminator refused");
	ok(queue_env_parse(&e, "Fa\0Tb\0\0x", 8) < 0, "trailing bytes refused");
	ok(queue_env_parse(&e, "Fa\0T\0\0", 6) < 0, "empty recipient refused");
	ok(queue_env_parse(&e, "Fa\0Tb\0\0", 6) < 0, "truncated terminator refused");
	ok(queue_env_parse(&e, "Ax\0Fa\0Tb\0\0", 10) < 0, "bad arrival refused");
	queue_env_free(&e);
	str_free(&s);
}

static void
test_state(void)
{
	struct queue_state st = QUEUE_STATE_INIT, st2 = QUEUE_STATE_INIT;
	struct str s = STR_INIT, s2 = STR_INIT;
	ok(queue_state_init(&st, 3) == 0 && st.r[2].status == QS_PENDING, "fresh state pending");
	st.r[0].status = QS_DONE;
	st.r[1].attempts = 4;
	st.r[1].next = 1700000400;
	queue_rstate_set(&st.r[1], "4.2.0", "mx.example.org", "mailbox\r\nbusy\x01", 14);
	st.flags = QS_WARNED;
	ok(queue_state_fmt(&st, &s) == 0, "format");
	is_str(s.s, "PMS1 w\nd 0 0 0 - - \np 4 1700000400 0 4.2.0 mx.example.org mailbox  busy \np 0 0 0 - - \n",
	    "state text, control bytes made spaces");
	ok(queue_state_parse(&st2, s.s, s.len, 3) == 0, "parses back");
	ok(queue_state_fmt(&st2, &s2) == 0 && strcmp(s.s, s2.s) == 0, "round trip");
	ok(queue_state_parse(&st2, s.s, s.len, 4) < 0 && st2.n == 4 && st2.r[0].status == QS_PENDING,
	    "wrong recipient count: fresh state");
	ok(queue_state_parse(&st2, "PMS1 -\ny 1 0 1 2.0.0 mx 250 ok\ne 1 0 1 2.0.0 - x\n", 49, 2) == 0 &&
	    st2.r[0].status == QS_RELAYED_NOTIFY && st2.r[1].status == QS_EXPANDED_NOTIFY, "relayed and expanded states");
	ok(queue_state_parse(&st2, "PMS1 -\nq 0 0 0 - - \n", 20, 1) < 0, "bad status refused");
	ok(queue_state_parse(&st2, "PMS1 -\np 0 0 0 - -\n", 19, 1) < 0, "missing text separator refused");
	ok(queue_state_parse(&st2, "PMS1 -\np 0 0 0 5.x - \n", 22, 1) < 0, "bad enhanced code refused");
	ok(queue_state_parse(&st2, "", 0, 0) < 0, "empty refused");
	queue_state_free(&st);
	queue_state_free(&st2);
	str_free(&s);
	str_free(&s2);
}

static void
test_result(void)
{
	struct queue_result r = { 0, 0, "", STR_INIT, STR_INIT };
	ok(queue_result_parse(&r, "2 perm 5.1.1 mx.test user unknown", 33) == 0, "result parses");
	ok(r.idx == 2 && r.status == 'p' && strcmp(r.dsn, "5.1.1") == 0, "fields");
	is_str(r.host.s, "mx.test", "host");
	is_str(r.text.s, "user unknown", "text");
	ok(queue_result_parse(&r, "1 relayed 2.0.0 mx.test 250 ok", 30) == 0 && r.status == 'r', "relayed");
	ok(queue_result_parse(&r, "1 forwarded 2.0.0 - fw", 22) == 0 && r.status == 'F', "forwarded");
	ok(queue_result_parse(&r, "1 expanded 2.0.0 - x", 20) == 0 && r.status == 'e', "expanded");
	ok(queue_result_parse(&r, "1 relaye 2.0.0 - x", 18) < 0, "a prefix of a status refused");
	ok(queue_success_due('s') && queue_success_due('y') && queue_success_due('e') && !queue_success_due('d') &&
	    !queue_success_due('x'), "the states that owe a success report");
	ok(queue_result_parse(&r, "0 fine 2.0.0 - x", 16) < 0, "bad status refused");
	ok(queue_result_parse(&r, "x ok 2.0.0 - x", 14) < 0, "bad index refused");
	ok(queue_result_parse(&r, "0 ok 2.0.0 -", 12) < 0, "missing text separator refused");
	str_free(&r.host);
	str_free(&r.text);
}

static void
test_id(void)
{
	ok(queue_id_ok("1700000000.123456.42"), "id ok");
	ok(!queue_id_ok(""), "empty id");
	ok(!queue_id_ok("../x"), "path in id");
	ok(!queue_id_ok(".1"), "leading dot");
	ok(!queue_id_ok("1.2.3.done"), "suffix");
}

static void
test_dotqmail(void)
{
	struct dotqmail_entry e[4];
	char b[] = "# comment\n\n./Maildir/\n|spamcheck -q | deliver-maildir ./.Junk/  \r\n&fwd@example.org\nplain@example.org";
	char bad1[] = "./mbox\n", bad2[] = "&\n", bad3[] = "x y@z\n";
	char big[] = "./a/\n./b/\n./c/\n./d/\n./e/\n";
	int n = dotqmail_parse(b, sizeof b - 1, e, 4);
	is_int(n, 4, "four entries");
	ok(e[0].type == DQ_MAILDIR && strcmp(e[0].arg, "./Maildir/") == 0, "maildir line");
	ok(e[1].type == DQ_PROGRAM && strcmp(e[1].arg, "spamcheck -q | deliver-maildir ./.Junk/") == 0,
	    "program line, trailing space and CR trimmed");
	ok(e[2].type == DQ_FORWARD && strcmp(e[2].arg, "fwd@example.org") == 0, "& forward");
	ok(e[3].type == DQ_FORWARD && strcmp(e[3].arg, "plain@example.org") == 0, "bare address, last line unterminated");
	ok(dotqmail_parse(bad1, sizeof bad1 - 1, e, 4) < 0, "mbox refused");
	ok(dotqmail_parse(bad2, sizeof bad2 - 1, e, 4) < 0, "empty forward refused");
	ok(dotqmail_parse(bad3, sizeof bad3 - 1, e, 4) < 0, "space in address refused");
	ok(dotqmail_parse(big, sizeof big - 1, e, 4) < 0, "too many entries refused");
	ok(dotqmail_parse(b, 3, e, 4) == 0, "only a comment: no entries");
	{
		char bad4[] = "# c\r\n./\r\nx y@z\r\n", big2[] = "./a/\n./b/\n./c/\n./d/\n./e/\n";
		size_t line = 99;
		ok(dotqmail_parse_at(bad4, sizeof bad4 - 1, e, 4, &line) < 0 && line == 3, "the bad line named: 3");
		ok(dotqmail_parse_at(big2, sizeof big2 - 1, e, 4, &line) < 0 && line == 5, "the entry past the limit: 5");
	}
}

/* queue_pin: a subdirectory that is a link stops it; once pinned, paths
 * name the directories held, wherever their names go later */
static void
test_pin(void)
{
	char dir[] = "/tmp/queue-pin.XXXXXX", p[256], q[256], plain[256];
	static const char *const sub[] = { "mess", "new", "state", "tmp", "pool" };
	struct str path = STR_INIT;
	size_t i;
	int fd;
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("PIPEMAIL_QUEUE", dir, 1);
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		mkdir(p, 0700);
	}
	snprintf(p, sizeof p, "%s/pool", dir);
	snprintf(q, sizeof q, "%s/pool.real", dir);
	snprintf(plain, sizeof plain, "%s/pool/x", dir);
	rename(p, q);
	if (symlink(q, p) < 0)
		ok(0, "symlink");
	errno = 0;
	ok(queue_pin() == -1 && (errno == ELOOP || errno == ENOTDIR), "pin: a directory that is a link stops it");
	ok(queue_path(&path, "pool", "x") == 0 && strcmp(path.s, plain) == 0, "queue_path: the plain path");
	unlink(p);
	rename(q, p);
	ok(queue_pin() == 0, "pin: real directories");
	ok(queue_path(&path, "pool", "x") == 0 && strcmp(path.s, plain) == 0, "pinned: queue_path still the plain path");
	rename(p, q);
	if (symlink("/nonexistent", p) < 0)
		ok(0, "symlink");
	fd = queue_open_in("pool", "x", O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0, "created through the held directory");
	if (fd >= 0)
		close(fd);
	snprintf(q, sizeof q, "%s/pool.real/x", dir);
	ok(access(q, F_OK) == 0, "in the directory held, though its name moved and a link took it");
	{
		struct stat st;
		DIR *d;
		struct dirent *e;
		int seen = 0;
		ok(queue_stat_in("pool", "x", &st) == 0 && S_ISREG(st.st_mode), "stat through the held directory");
		ok(queue_rename_in("pool", "x", "pool", "y", 0) == 0 && queue_stat_in("pool", "y", &st) == 0,
		    "rename within it");
		ok((d = queue_opendir("pool")) != NULL, "opendir through it");
		while (d && (e = readdir(d)))
			seen += strcmp(e->d_name, "y") == 0;
		if (d)
			closedir(d);
		ok(seen == 1, "and reads the held directory");
		ok(queue_unlink_in("pool", "y") == 0 && queue_stat_in("pool", "y", &st) < 0 && errno == ENOENT,
		    "unlink through it");
		fd = queue_open_in("pool", "z", O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0)
			close(fd);
		snprintf(q, sizeof q, "%s/pool.real/z", dir);
	}
	unlink(q);
	unlink(p);
	snprintf(q, sizeof q, "%s/pool.real", dir);
	rmdir(q);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		rmdir(p);
	}
	rmdir(dir);
	str_free(&path);
}

int
main(void)
{
	test_hdr();
	test_env();
	test_state();
	test_result();
	test_id();
	test_dotqmail();
	test_pin();
	return done();
}
