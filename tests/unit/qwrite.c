/* Unit tests for lib/qwrite: the envelope check, and whole writes into a
 * throwaway queue read back through lib/queue. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "exitcode.h"
#include "qwrite.h"
#include "tap.h"

#define ENV(lit) lit, sizeof lit - 1

static int
check(const char *e, size_t n)
{
	const char *why = NULL;
	return qwrite_envelope_check(e, n, &why);
}

static void
test_check(void)
{
	char big[QUEUE_ADDR_MAX + 8];
	is_int(check(ENV("Fa@b\0Tc@d\0\0")), QQ_OK, "sender and one recipient");
	is_int(check(ENV("F\0Tc@d\0Te@f\0\0")), QQ_OK, "null sender, two recipients");
	is_int(check(ENV("Fa@b\0Tc@d\0\0trailing")), QQ_OK, "bytes after the end ignored");
	is_int(check(ENV("Fa@b\0\0")), QQ_PERM_ENV, "no recipients");
	is_int(check(ENV("\0")), QQ_PERM_ENV, "empty envelope");
	is_int(check(ENV("Ta@b\0Tc@d\0\0")), QQ_PERM_ENV, "no F field first");
	is_int(check(ENV("Fa@b\0Xc@d\0\0")), QQ_PERM_ENV, "a field that is not T");
	is_int(check(ENV("Fa@b\0T\0\0")), QQ_PERM_ENV, "empty recipient");
	is_int(check(ENV("Fa\nb\0Tc@d\0\0")), QQ_PERM_ENV, "control character in sender");
	is_int(check(ENV("Fa@b\0Tc\x7f@d\0\0")), QQ_PERM_ENV, "DEL in recipient");
	is_int(check(ENV("Fa@b\0Tc@d\0")), QQ_TEMP_READ, "no terminating field: truncated");
	is_int(check(ENV("Fa@b")), QQ_TEMP_READ, "cut inside a field: truncated");
	is_int(check("", 0), QQ_TEMP_READ, "nothing at all: truncated");
	memset(big, 'x', sizeof big);
	big[0] = 'F';
	big[QUEUE_ADDR_MAX + 2] = 0;
	big[QUEUE_ADDR_MAX + 3] = 'T';
	big[QUEUE_ADDR_MAX + 4] = 'y';
	big[QUEUE_ADDR_MAX + 5] = 0;
	big[QUEUE_ADDR_MAX + 6] = 0;
	is_int(check(big, QUEUE_ADDR_MAX + 7), QQ_PERM_ADDR, "address over QUEUE_ADDR_MAX");
	big[QUEUE_ADDR_MAX + 1] = 0;   /* exactly QUEUE_ADDR_MAX */
	big[QUEUE_ADDR_MAX + 2] = 'T';
	big[QUEUE_ADDR_MAX + 3] = 'y';
	big[QUEUE_ADDR_MAX + 4] = 0;
	big[QUEUE_ADDR_MAX + 5] = 0;
	is_int(check(big, QUEUE_ADDR_MAX + 6), QQ_OK, "address of exactly QUEUE_ADDR_MAX");
}

static int
count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_write(const char *q)
{
	static struct qwrite w;
	struct queue_msg m;
	char path[4096], body[200000];
	size_t i;
	ssize_t r;
	for (i = 0; i < sizeof body; i++)
		body[i] = (char)('a' + i % 26);
	is_int(qwrite_open(&w), QQ_OK, "open creates the queue on first use");
	ok(qwrite_put(&w, "Subject: x\n\n", 12) == QQ_OK && qwrite_put(&w, body, sizeof body) == QQ_OK,
	    "message bytes, more than one buffer");
	is_int(qwrite_commit(&w, ENV("Fs@x\0Tr1@y\0Tr2@y\0\0"), "RET=HDRS\n\n\n"), QQ_OK, "commit");
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	is_int(queue_msg_open(&m, path), 1, "lib/queue reads it as complete mail");
	ok(m.hdr.msglen == 12 + sizeof body && m.hdr.has_crc, "length and CRC in the header");
	ok(m.env.nrcpt == 2 && strcmp(m.env.sender, "s@x") == 0 && strcmp(m.env.rcpt[1], "r2@y") == 0 &&
	    strcmp(m.env.dsn, "RET=HDRS\n\n\n") == 0, "envelope read back");
	r = pread(m.fd, path, 12, (off_t)m.hdr.msgoff);
	ok(r == 12 && memcmp(path, "Subject: x\n\n", 12) == 0, "message bytes read back");
	queue_msg_close(&m);
	snprintf(path, sizeof path, "%s/new", q);
	is_int(count(path), 1, "linked into new/");

	/* a refused envelope and an abort leave nothing */
	is_int(qwrite_open(&w), QQ_OK, "second open");
	qwrite_put(&w, "x\n", 2);
	is_int(qwrite_commit(&w, ENV("Fs@x\0\0"), NULL), QQ_PERM_ENV, "no recipient refused at commit");
	is_int(qwrite_commit(&w, ENV("Fs@x\0Tr@y\0\0"), NULL), QQ_PERM_ENV, "a failure sticks");
	ok(w.why && strcmp(w.why, "no recipients") == 0, "and says why");
	qwrite_abort(&w);
	snprintf(path, sizeof path, "%s/mess", q);
	is_int(count(path), 1, "abort removes the partial file");
	is_int(qwrite_open(&w), QQ_OK, "third open");
	qwrite_abort(&w);
	is_int(count(path), 1, "abort right after open leaves nothing");
}

static int
commit_one(struct qwrite *w, const char *body, size_t n)
{
	if (qwrite_open(w) != QQ_OK || qwrite_put(w, body, n) != QQ_OK)
		return -1;
	return qwrite_commit(w, ENV("Fs@x\0Tr@y\0\0"), NULL) == QQ_OK ? 0 : -1;
}

static ino_t
ino_of(const char *q, const char *sub, const char *id)
{
	char path[4096];
	struct stat st;
	if (snprintf(path, sizeof path, "%s/%s/%s", q, sub, id) >= (int)sizeof path)
		return 0;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* a committed message as a delivery holds it: out of new/, share-locked; its fd */
static int
held_message(const char *q, struct qwrite *w, const char *m, size_t n, char id[QUEUE_ID_MAX + 1], const char *what)
{
	char path[4096];
	int fd;
	ok(commit_one(w, m, n) == 0, what);
	memcpy(id, w->id, QUEUE_ID_MAX + 1);
	snprintf(path, sizeof path, "%s/new/%s", q, id);
	unlink(path);
	snprintf(path, sizeof path, "%s/mess/%s", q, id);
	fd = open(path, O_RDONLY);
	ok(fd >= 0 && flock(fd, LOCK_SH) == 0, "a delivery holds it");
	return fd;
}

/* the pool: a finished file is reused, emptied first, never shared */
static void
test_pool(const char *q)
{
	static struct qwrite w;
	static char big[100000];
	char path[4096], id[QUEUE_ID_MAX + 1], id2[QUEUE_ID_MAX + 1];
	struct queue_msg m;
	ino_t ino;
	int fd;
	memset(big, 'A', sizeof big);
	ok(commit_one(&w, big, sizeof big) == 0, "a big message");
	memcpy(id, w.id, sizeof id);
	ino = ino_of(q, "mess", id);
	snprintf(path, sizeof path, "%s/new/%s", q, id);
	unlink(path);   /* as queue-run does once it has read the notice */
	is_int(queue_recycle(id, 1, geteuid()), 1, "finished file goes to the pool");
	ok(ino_of(q, "pool", id) == ino && ino_of(q, "mess", id) == 0, "moved, not copied");
	is_int(queue_pool_count(), 1, "pool count");
	{
		/* an old pool file must look new once taken: queue-run's start-up
		 * removes old files without a header as abandoned writes */
		struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
		struct stat st;
		snprintf(path, sizeof path, "%s/pool/%s", q, id);
		ok(utimensat(AT_FDCWD, path, old, 0) == 0, "pool file dated 2001");
		ok(qwrite_open(&w) == QQ_OK && fstat(w.fd, &st) == 0 && st.st_mtime > time(NULL) - 60,
		    "taken, and dated now");
		ok(qwrite_put(&w, "small\n", 6) == QQ_OK && qwrite_commit(&w, ENV("Fs@x\0Tr@y\0\0"), NULL) == QQ_OK,
		    "the next message");
	}
	ok(ino_of(q, "mess", w.id) == ino, "written into the pooled file");
	is_int(queue_pool_count(), 0, "pool empty again");
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	ok(queue_msg_open(&m, path) == 1 && m.hdr.msglen == 6 && m.size == QUEUE_MSG_OFF + 6,
	    "nothing of the old message is left in it");
	queue_msg_close(&m);

	/* a crash between pooling and emptying: the writer empties it */
	memcpy(id, w.id, sizeof id);
	snprintf(path, sizeof path, "%s/new/%s", q, id);
	unlink(path);
	{
		char from[4096], to[4096];
		snprintf(from, sizeof from, "%s/mess/%s", q, id);
		snprintf(to, sizeof to, "%s/pool/%s", q, id);
		ok(rename(from, to) == 0, "a full file left in the pool");
	}
	ok(commit_one(&w, "xy\n", 3) == 0 && ino_of(q, "mess", w.id) == ino, "taken");
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	ok(queue_msg_open(&m, path) == 1 && m.hdr.msglen == 3 && m.size == QUEUE_MSG_OFF + 3, "and emptied first");
	queue_msg_close(&m);

	/* a second link (a crash can leave one): never written into */
	memcpy(id, w.id, sizeof id);
	snprintf(path, sizeof path, "%s/new/%s", q, id);
	unlink(path);
	is_int(queue_recycle(id, 1, geteuid()), 1, "pooled again");
	{
		char a[4096], b[4096];
		snprintf(a, sizeof a, "%s/pool/%s", q, id);
		snprintf(b, sizeof b, "%s/tmp/extra", q);
		ok(link(a, b) == 0, "a second link to the pool file");
		ok(commit_one(&w, "z\n", 2) == 0 && ino_of(q, "mess", w.id) != ino, "a file with two links is not taken");
		unlink(b);
	}
	/* a reader still holding the file (a delivery not yet acknowledged) */
	snprintf(path, sizeof path, "%s/pool/%s", q, id);
	fd = open(path, O_RDONLY);
	ok(fd >= 0 && flock(fd, LOCK_SH) == 0, "a reader locks the pool file");
	ok(commit_one(&w, "r\n", 2) == 0 && ino_of(q, "mess", w.id) != ino, "a locked file is not taken");
	if (fd >= 0)
		close(fd);
	is_int(queue_recycle("1.2.3", 1, geteuid()), -1, "recycling what is not there fails");
	is_int(queue_recycle(w.id, 0, geteuid()), 0, "pool not wanted: unlinked");
	ok(ino_of(q, "mess", w.id) == 0 && ino_of(q, "pool", w.id) == 0, "gone");
	/* pooled while the delivery that read it still holds its shared lock
	 * (queue-run recycles before it acknowledges): emptied all the same */
	fd = held_message(q, &w, big, sizeof big, id2, "a big message again");
	is_int(queue_recycle(id2, 1, geteuid()), 1, "pooled under the delivery's lock");
	{
		struct stat st;
		snprintf(path, sizeof path, "%s/pool/%s", q, id2);
		ok(stat(path, &st) == 0 && st.st_size == 0, "and emptied: no old mail kept in the pool");
	}
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s/pool/%s", q, id2);
	unlink(path);
	/* QUEUE_POOL_FULL: pooled as it is; the delivery that holds it empties
	 * it (queue_pool_empty), and only while the name is still its file */
	fd = held_message(q, &w, big, sizeof big, id2, "a big message once more");
	is_int(queue_recycle(id2, QUEUE_POOL_FULL, geteuid()), 1, "pooled, not emptied yet");
	{
		struct stat st;
		int other = open(q, O_RDONLY | O_DIRECTORY);
		snprintf(path, sizeof path, "%s/pool/%s", q, id2);
		ok(stat(path, &st) == 0 && st.st_size > 0, "still full");
		errno = 0;
		ok(queue_pool_empty(id2, other) < 0 && errno == ESTALE, "not emptied through another file's descriptor");
		ok(stat(path, &st) == 0 && st.st_size > 0, "still full after that");
		ok(queue_pool_empty(id2, fd) == 0 && stat(path, &st) == 0 && st.st_size == 0, "emptied by its holder");
		errno = 0;
		ok(queue_pool_empty("1.2.3", fd) < 0 && errno == ENOENT, "a name not in the pool: nothing emptied");
		if (other >= 0)
			close(other);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	if (geteuid() == 0) {
		char p2[4096];
		ok(commit_one(&w, "o\n", 2) == 0, "another message");
		memcpy(id, w.id, sizeof id);
		snprintf(p2, sizeof p2, "%s/new/%s", q, id);
		unlink(p2);
		is_int(queue_recycle(id, 1, 12345), 0, "a file not the owner's is unlinked, not pooled");
		ok(commit_one(&w, "o\n", 2) == 0, "and one more");
		memcpy(id, w.id, sizeof id);
		snprintf(p2, sizeof p2, "%s/new/%s", q, id);
		unlink(p2);
		ino = ino_of(q, "mess", id);
		is_int(queue_recycle(id, 1, 0), 1, "pooled");
		snprintf(p2, sizeof p2, "%s/pool/%s", q, id);
		ok(chown(p2, 12345, 12345) == 0, "pool file given away");
		ok(commit_one(&w, "o\n", 2) == 0 && ino_of(q, "mess", w.id) != ino, "someone else's file is not taken");
	}
}

/* On ext4 a take starts reading the pool at a random hash: takes spread
 * over its whole listing (hash order), so its top is not emptied first */
static void
test_spread(const char *q)
{
	/* a take reads 16 names and uses them for the next takes too: 160
	 * takes are 10 reads, each at a random place */
	enum { POOLED = 400, TAKES = 160, TOP = 80 };
	static char order[POOLED + 2][QUEUE_ID_MAX + 1];
	static struct qwrite w;
	char path[4096];
	struct statfs sf;
	struct dirent *e;
	DIR *d;
	size_t n = 0, i, beyond = 0, gone = 0;
	setenv("PIPEMAIL_QUEUE", q, 1);
	ok(commit_one(&w, "x\n", 2) == 0, "a queue for the spread");
	if (statfs(q, &sf) != 0 || sf.f_type != EXT4_SUPER_MAGIC) {
		skip(3, "not ext4: takes read the pool from the top");
		return;
	}
	/* POOLED messages queued at once, then all finished */
	memcpy(order[0], w.id, sizeof order[0]);
	for (i = 1; i < POOLED && commit_one(&w, "x\n", 2) == 0; i++)
		memcpy(order[i], w.id, sizeof order[i]);
	for (n = i, i = 0; i < n; i++) {
		if (snprintf(path, sizeof path, "%s/new/%s", q, order[i]) >= (int)sizeof path || unlink(path) < 0 ||
		    queue_recycle(order[i], 1, geteuid()) != 1)
			break;
	}
	is_int(i, POOLED, "pool filled");
	n = 0;
	snprintf(path, sizeof path, "%s/pool", q);
	if ((d = opendir(path))) {
		while (n < POOLED + 2 && (e = readdir(d)))
			if (e->d_name[0] != '.' && strlen(e->d_name) <= QUEUE_ID_MAX)
				memcpy(order[n++], e->d_name, strlen(e->d_name) + 1);
		closedir(d);
	}
	for (i = 0; i < TAKES; i++)
		if (commit_one(&w, "y\n", 2) < 0)
			break;
	is_int(i, TAKES, "messages written");
	for (i = 0; i < n; i++)
		if (ino_of(q, "pool", order[i]) == 0) {
			gone++;
			beyond += i >= TOP;
		}
	/* from the top only, none would be past the first TOP; at random
	 * about four in five are (fewer than a third: under one in 1,000) */
	ok(gone == TAKES && beyond >= TAKES / 3, "taken from all over the listing");
	if (gone != TAKES || beyond < TAKES / 3)
		printf("#   taken %zu, beyond the first %d: %zu\n", gone, TOP, beyond);
}

static void
test_unique(void)
{
	struct str r = STR_INIT, d = STR_INIT;
	static const char list[] = "bob@x.test\0ann@y.test\0bob@X.TEST\0Bob@x.test\0ann@y.test\0bob\0bob\0";
	str_copyb(&r, list, sizeof list - 1);
	is_int(qwrite_unique(&r, "RET=FULL\nNOTIFY=SUCCESS\nNOTIFY=NEVER\nORCPT=rfc822;b+40X.TEST\n"
	    "NOTIFY=DELAY\nNOTIFY=FAILURE\n\nNOTIFY=NEVER\n", &d), 3, "three repeats dropped");
	ok(r.len == 37 && memcmp(r.s, "bob@x.test\0ann@y.test\0Bob@x.test\0bob\0", 37) == 0,
	    "the first of each kept, in order; the domain in any case, the local part exact");
	str_0(&d);
	is_str(d.s, "RET=FULL\nNOTIFY=SUCCESS\nNOTIFY=NEVER\nNOTIFY=DELAY\n\n", "their DSN lines go with them");
	str_copyb(&r, "a@b\0c@d\0", 8);
	is_int(qwrite_unique(&r, NULL, &d), 0, "no repeat: nothing dropped");
	ok(r.len == 8 && d.len == 0, "list unchanged, no DSN text");
	str_copyb(&r, "a@b\0a@b\0", 8);
	is_int(qwrite_unique(&r, "RET=HDRS", &d), 1, "DSN text of the message's line only");
	str_0(&d);
	ok(r.len == 4 && strcmp(d.s, "RET=HDRS") == 0, "kept as it was");
	str_free(&r);
	str_free(&d);
}

/* An empty message: its envelope ends the file. A file in the layout of
 * queue-adds before that (envelope in the first page, the empty message's
 * offset past it) is still mail. */
static void
test_empty(const char *q)
{
	static struct qwrite w;
	struct queue_msg m;
	struct queue_hdr h;
	char path[4096], hdr[QUEUE_HDR_LEN], env[256];
	unsigned long long crc;
	int fd;
	ok(commit_one(&w, "", 0) == 0, "an empty message is committed");
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	ok(queue_msg_open(&m, path) == 1 && m.hdr.msglen == 0 && m.hdr.envoff + m.hdr.envlen == m.size,
	    "read as mail, its envelope ending the file");
	h = m.hdr;
	ok(h.envlen < sizeof env && pread(m.fd, env, (size_t)h.envlen, (off_t)h.envoff) == (ssize_t)h.envlen,
	    "its envelope read");
	queue_msg_close(&m);
	/* rewrite it as older queue-adds wrote it */
	h.envoff = QUEUE_HDR_LEN;
	h.msgoff = QUEUE_MSG_OFF;
	fd = open(path, O_RDWR | O_TRUNC);
	ok(fd >= 0 && queue_hdr_fmt(hdr, &h) == 0 && pwrite(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
	    pwrite(fd, env, (size_t)h.envlen, QUEUE_HDR_LEN) == (ssize_t)h.envlen, "rewritten in the old layout");
	ok(fd >= 0 && queue_crc(fd, &h, &crc) == 0 && crc == h.crc, "its CRC still holds");
	if (fd >= 0)
		close(fd);
	ok(queue_msg_open(&m, path) == 1 && m.hdr.msglen == 0 && m.env.nrcpt == 1 && strcmp(m.env.rcpt[0], "r@y") == 0,
	    "the old layout is read as mail too, not as an unfinished write");
	queue_msg_close(&m);
}

/* The largest envelope the writer takes (the longest sender, the most
 * and longest recipients, the longest PIPEMAIL_DSN) is read back as mail:
 * the reader's limit once left out the sender, and such a message,
 * acknowledged, was never delivered. */
static void
test_env_max(const char *q)
{
	static struct qwrite w;
	struct queue_msg m;
	struct str env = STR_INIT;
	char path[4096], addr[QUEUE_ADDR_MAX + 2], *dsn = malloc(QUEUE_DSN_MAX + 1);
	size_t i;
	int built = dsn != NULL;
	/* distinct recipients (queue-add keeps one of each), every one
	 * QUEUE_ADDR_MAX long */
	memset(addr, 'a', sizeof addr);
	addr[0] = 'F';
	memcpy(addr + QUEUE_ADDR_MAX - 1, "@x", 3);
	built = built && str_catb(&env, addr, QUEUE_ADDR_MAX + 2) == 0;
	addr[0] = 'T';
	for (i = 0; built && i < QUEUE_RCPT_MAX; i++) {
		snprintf(addr + 1, 8, "%07zu", i);
		addr[8] = 'a';
		built = str_catb(&env, addr, QUEUE_ADDR_MAX + 2) == 0;
	}
	built = built && str_catc(&env, 0) == 0;
	if (built) {
		memset(dsn, 'd', QUEUE_DSN_MAX);
		dsn[QUEUE_DSN_MAX] = 0;
	}
	ok(built, "the largest envelope built");
	is_int(qwrite_open(&w), QQ_OK, "open");
	qwrite_put(&w, "x\n", 2);
	is_int(built ? qwrite_commit(&w, env.s, env.len, dsn) : -1, QQ_OK, "the writer takes it");
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	is_int(queue_msg_open(&m, path), 1, "the reader reads it as mail");
	/* all of QUEUE_ENV_MAX but the digits A and U leave unused of their 20 */
	ok(m.hdr.envlen <= QUEUE_ENV_MAX && m.hdr.envlen >= QUEUE_ENV_MAX - 40, "its envelope is as long as QUEUE_ENV_MAX allows");
	ok(m.env.nrcpt == QUEUE_RCPT_MAX && strlen(m.env.sender) == QUEUE_ADDR_MAX && strlen(m.env.dsn) == QUEUE_DSN_MAX,
	    "sender, recipients and DSN text read back whole");
	queue_msg_close(&m);
	snprintf(path, sizeof path, "%s/mess/%s", q, w.id);
	unlink(path);
	snprintf(path, sizeof path, "%s/new/%s", q, w.id);
	unlink(path);
	str_free(&env);
	free(dsn);
}

int
main(void)
{
	char q[] = "/tmp/qwrite-unit.XXXXXX", sub[64];
	test_check();
	test_unique();
	if (!mkdtemp(q)) {
		ok(0, "mkdtemp");
		return done();
	}
	snprintf(sub, sizeof sub, "%s/q", q);
	setenv("PIPEMAIL_QUEUE", sub, 1);
	test_write(sub);
	test_pool(sub);
	{
		/* the directories stay open between messages; a queue removed
		 * and made again in between is still written to, not the old one */
		static struct qwrite w;
		char cmd[128];
		ok(commit_one(&w, "a\n", 2) == 0, "a message");
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", sub);
		ok(system(cmd) == 0, "queue removed");
		ok(commit_one(&w, "b\n", 2) == 0 && ino_of(sub, "mess", w.id) != 0, "the next message goes to the new queue");
	}
	test_empty(sub);
	test_env_max(sub);
	snprintf(sub, sizeof sub, "%s/q2", q);
	test_spread(sub);
	snprintf(sub, sizeof sub, "rm -rf '%s'", q);
	if (system(sub) != 0)
		ok(0, "cleanup");
	return done();
}
