/* Unit tests for spamcheck's own modules (built from its sources): the
 * token set, the database merge and search, corrupt databases. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../cmd/spamcheck/db.c"
#include "../../cmd/spamcheck/html.c"
#include "../../cmd/spamcheck/token.c"
#include "tap.h"

static void
test_toks(void)
{
	struct toks t;
	size_t i;
	int dup = 0;
	toks_init(&t);
	for (i = 0; i < 3 * TOK_MAX; i++) {
		char w[16];
		int n = snprintf(w, sizeof w, "w%zu", i % (2 * TOK_MAX));
		toks_add2(&t, "", w, (size_t)n);
	}
	is_int(t.n, TOK_MAX, "token set stops at TOK_MAX");
	for (i = 1; i < t.n; i++)
		dup |= t.v[i].h == t.v[0].h;
	ok(!dup, "tokens are unique");
	toks_reset(&t);
	toks_add2(&t, "S:", "a", 1);
	toks_add2(&t, "S:", "a", 1);
	toks_add2(&t, "", "S:a", 3);
	is_int(t.n, 1, "prefix+word is one token however it is split");
	toks_free(&t);
}

static void
test_db(void)
{
	char dir[] = "/tmp/sc-unit.XXXXXX", path[64];
	struct db_delta d;
	struct toks t;
	struct db db;
	uint32_t s, g;
	size_t i;
	int all = 1, fd;
	if (!mkdtemp(dir))
		exit(2);
	snprintf(path, sizeof path, "%s/db", dir);
	toks_init(&t);
	delta_init(&d);
	for (i = 0; i < 5000; i++) {
		char w[16];
		int n = snprintf(w, sizeof w, "t%zu", i);
		toks_add2(&t, "", w, (size_t)n);
	}
	delta_add(&d, &t, 1, 0);
	delta_add(&d, &t, 1, 0);
	t.n = 100;
	delta_add(&d, &t, 0, 1);
	ok(db_update(path, &d) == 0, "db_update writes a database");
	ok(db_open(&db, path) == 0 && db.count == 5000 && db.nspam == 2 && db.nham == 1, "header counts");
	t.n = 5000;
	for (i = 0; i < t.n; i++)
		all &= db_lookup(&db, t.v[i].h, &s, &g) == 1 && s == 2 && g == (i < 100);
	ok(all, "every token found with its counts");
	ok(db_lookup(&db, 0, &s, &g) == 0 && db_lookup(&db, UINT64_MAX, &s, &g) == 0
	    && db_lookup(&db, tok_hash("absent", 6), &s, &g) == 0, "absent tokens, both ends");
	db_close(&db);
	/* forget everything again: an empty database */
	delta_init(&d);
	delta_add(&d, &t, -2, 0);
	t.n = 100;
	delta_add(&d, &t, 0, -1);
	ok(db_update(path, &d) == 0 && db_open(&db, path) == 0 && db.count == 0 && db.nspam == 0, "forgetting empties it");
	db_close(&db);
	ok(db_open(&db, "/nonexistent/db") == 0 && db.count == 0, "a missing database is empty");
	/* truncated and foreign files */
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, "pmspam1\nxx", 10) != 10)
		exit(2);
	close(fd);
	errno = 0;
	ok(db_open(&db, path) < 0 && errno == EPROTO, "a truncated database is corrupt, not empty");
	snprintf(path + strlen(path), 8, ".lock");
	unlink(path);
	path[strlen(path) - 5] = 0;
	unlink(path);
	rmdir(dir);
	toks_free(&t);
}

int
main(void)
{
	test_toks();
	test_db();
	return done();
}
