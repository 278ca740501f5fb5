/* Unit tests for spamcheck's own modules (built from its sources): the
 * token set, the database merge and search, regression weights (kept,
 * replaced, read from version 1 files as 0), corrupt and hostile databases. */
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
	is_int(t.n, TOK_MAX - TOK_RULE_ROOM, "words stop TOK_RULE_ROOM short of TOK_MAX");
	for (i = 0; i < 2 * TOK_RULE_ROOM; i++) {
		char w[16];
		int n = snprintf(w, sizeof w, "R:r%zu", i);
		toks_add2(&t, "", w, (size_t)n);
	}
	is_int(t.n, TOK_MAX, "rules fill the rest; the set stops at TOK_MAX");
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
	double w = 0;
	size_t i;
	int all = 1, fd;
	if (!mkdtemp(dir))
		exit(2);
	snprintf(path, sizeof path, "%s/db", dir);
	toks_init(&t);
	delta_init(&d);
	for (i = 0; i < 5000; i++) {
		char wd[16];
		int n = snprintf(wd, sizeof wd, "t%zu", i);
		toks_add2(&t, "", wd, (size_t)n);
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
	ok(db.w && db.bias == 0 && db_lookup_w(&db, t.v[7].h, &s, &g, &w) == 1 && w == 0, "weights 0 until fitted");
	db_close(&db);
	/* weights set for some tokens replace theirs; the others keep theirs */
	delta_init(&d);
	delta_add(&d, &t, 1, 0);
	for (i = 0; i < t.n; i += 2) {
		struct delta_slot *p = delta_find(&d, t.v[i].h);
		p->w = (float)i / 8;
		p->wset = 1;
	}
	d.bias = -1.25;
	d.biasset = 1;
	d.cal_a = 1.5;
	d.cal_b = 2.25;
	d.calset = 1;
	ok(db_update(path, &d) == 0 && db_open(&db, path) == 0 && db.bias == -1.25, "the intercept is stored");
	ok(db.version == 3 && db.cal_a == 1.5 && db.cal_b == 2.25, "a version 3 file with the calibration");
	for (i = 0; i < t.n; i++)
		all &= db_lookup_w(&db, t.v[i].h, &s, &g, &w) == 1 && s == 3 && w == (i % 2 ? 0 : (float)i / 8);
	ok(all, "weights stored beside the counts");
	db_close(&db);
	delta_init(&d);
	t.n = 10;
	delta_add(&d, &t, -1, 0);
	t.n = 5000;
	ok(db_update(path, &d) == 0 && db_open(&db, path) == 0 && db.bias == -1.25 && db.cal_b == 2.25
	    && db_lookup_w(&db, t.v[4].h, &s, &g, &w) == 1 && s == 2 && w == 0.5f
	    && db_lookup_w(&db, t.v[40].h, &s, &g, &w) == 1 && s == 3 && w == 5, "counts merged, weights kept");
	db_close(&db);
	delta_init(&d);
	t.n = 10;
	delta_add(&d, &t, 1, 0);
	t.n = 5000;
	if (db_update(path, &d) < 0)
		exit(2);
	/* forget everything again: an empty database */
	delta_init(&d);
	delta_add(&d, &t, -3, 0);
	t.n = 100;
	delta_add(&d, &t, 0, -1);
	ok(db_update(path, &d) == 0 && db_open(&db, path) == 0 && db.count == 0 && db.nspam == 0, "forgetting empties it");
	db_close(&db);
	ok(db_open(&db, "/nonexistent/db") == 0 && db.count == 0, "a missing database is empty");
	/* a version 1 file: no weights, still read */
	{
		char v1[64 + 16];
		uint32_t u32;
		uint64_t u64;
		memset(v1, 0, sizeof v1);
		memcpy(v1, "pmspam1\n", 8);
		u32 = 0x01020304;
		memcpy(v1 + 8, &u32, 4);
		u32 = 16;
		memcpy(v1 + 12, &u32, 4);
		u64 = 1;
		memcpy(v1 + 16, &u64, 8);   /* count */
		memcpy(v1 + 24, &u64, 8);   /* nspam */
		memcpy(v1 + 32, &u64, 8);   /* nham */
		u64 = tok_hash("old", 3);
		memcpy(v1 + 64, &u64, 8);
		u32 = 4;
		memcpy(v1 + 72, &u32, 4);
		memcpy(v1 + 76, &u32, 4);
		fd = open(path, O_WRONLY | O_TRUNC);
		if (fd < 0 || write(fd, v1, sizeof v1) != (ssize_t)sizeof v1)
			exit(2);
		close(fd);
		ok(db_open(&db, path) == 0 && !db.w && db.count == 1 && db_lookup_w(&db, u64, &s, &g, &w) == 1 && s == 4
		    && w == 0, "a version 1 database opens, its weights 0");
		db_close(&db);
	}
	/* a version 2 file whose weight is not a number: read as 0, so a
	 * corrupt weight never turns the score into NaN */
	{
		char v2[64 + 16 + 4];
		uint32_t u32;
		uint64_t u64;
		float nan = __builtin_nanf("");
		memset(v2, 0, sizeof v2);
		memcpy(v2, "pmspam2\n", 8);
		u32 = 0x01020304;
		memcpy(v2 + 8, &u32, 4);
		u32 = 16;
		memcpy(v2 + 12, &u32, 4);
		u64 = 1;
		memcpy(v2 + 16, &u64, 8);   /* count */
		memcpy(v2 + 24, &u64, 8);   /* nspam */
		memcpy(v2 + 32, &u64, 8);   /* nham */
		u64 = tok_hash("nan", 3);
		memcpy(v2 + 64, &u64, 8);
		memcpy(v2 + 80, &nan, 4);
		fd = open(path, O_WRONLY | O_TRUNC);
		if (fd < 0 || write(fd, v2, sizeof v2) != (ssize_t)sizeof v2)
			exit(2);
		close(fd);
		w = 1;
		ok(db_open(&db, path) == 0 && db_lookup_w(&db, u64, &s, &g, &w) == 1 && w == 0,
		    "a NaN weight reads as 0");
		db_close(&db);
	}
	/* a later version, or version 3 with flags this one does not know:
	 * refused, never read as something else */
	{
		char hdr[64];
		fd = open(path, O_RDWR);
		if (fd < 0 || pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
			exit(2);
		hdr[6] = '4';
		if (pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
			exit(2);
		errno = 0;
		ok(db_open(&db, path) < 0 && errno == EPROTO, "a version 4 database is refused");
		hdr[6] = '3';
		hdr[48] = 2;
		if (pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
			exit(2);
		errno = 0;
		ok(db_open(&db, path) < 0 && errno == EPROTO, "unknown header flags are refused");
		close(fd);
	}
	/* hostile headers: a count whose size wraps to the file's (64 + 20 *
	 * (2^62 + 1) = 84 modulo 2^64), a count one past the entries, an
	 * entry size not ours: refused, never mapped past the end */
	{
		static const uint64_t counts[] = { (1ULL << 62) + 1, 2, 1 };
		char f[84];
		size_t k;
		for (k = 0; k < sizeof counts / sizeof counts[0]; k++) {
			uint32_t order = 0x01020304, entry = k == 2 ? 20 : 16;
			memset(f, 0, sizeof f);
			memcpy(f, "pmspam3\n", 8);
			memcpy(f + 8, &order, 4);
			memcpy(f + 12, &entry, 4);
			memcpy(f + 16, &counts[k], 8);
			fd = open(path, O_WRONLY | O_TRUNC);
			if (fd < 0 || write(fd, f, sizeof f) != (ssize_t)sizeof f)
				exit(2);
			close(fd);
			errno = 0;
			ok(db_open(&db, path) < 0 && errno == EPROTO, k == 0 ? "a count whose size wraps is refused"
			    : k == 1 ? "a count past the entries is refused" : "an entry size not ours is refused");
		}
	}
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

/* body word pairs: flagged for the regression, the first TOK_PAIRS only,
 * none from header words but the Subject's (Fisher's as before); a
 * pair is stored once TOK_PAIR_MIN messages hold it */
static void
test_pairs(void)
{
	static const char msg[] = "From: Alpha Beta <ab@example.com>\nSubject: gamma delta\n\n";
	char dir[] = "/tmp/sc-unit.XXXXXX", path[64];
	struct str m = STR_INIT;
	struct db_delta d;
	struct toks t;
	struct db db;
	uint32_t s, g;
	size_t i, npair = 0, subj = 0, from = 0;
	uint64_t first = 0, late = 0;
	int k;
	toks_init(&t);
	str_copys(&m, msg);
	for (i = 0; i < 3 * TOK_PAIRS; i++) {
		char w[16];
		snprintf(w, sizeof w, "w%zu ", i);
		str_cats(&m, w);
	}
	ok(tokenize(&t, m.s, m.len) == 0, "tokenised");
	for (i = 0; i < t.n; i++) {
		const char *x = t.text.s + t.v[i].off;
		npair += t.v[i].pair;
		subj += !t.v[i].pair && t.v[i].len == 13 && !memcmp(x, "S:gamma delta", 13);
		from += t.v[i].len == 12 && !memcmp(x, "F:alpha beta", 12);
		if (t.v[i].len == 5 && !memcmp(x, "w0 w1", 5))
			first = t.v[i].pair ? t.v[i].h : 0;
	}
	is_int(npair, TOK_PAIRS, "TOK_PAIRS body pairs, flagged");
	ok(first != 0, "the first body words pair");
	is_int(subj, 1, "Subject pairs stay Fisher's");
	is_int(from, 0, "other header words make no pairs");
	for (i = 0; i < t.n; i++)
		if (t.v[i].len == 9 && !memcmp(t.text.s + t.v[i].off, "w140 w141", 9))
			late = t.v[i].h;
	ok(!late, "no pairs past TOK_PAIRS");
	if (!mkdtemp(dir))
		exit(2);
	snprintf(path, sizeof path, "%s/db", dir);
	for (k = 0; k < TOK_PAIR_MIN; k++) {
		delta_init(&d);
		delta_add(&d, &t, 1, 0);
		ok(db_update(path, &d) == 0, "trained one message");
		ok(db_open(&db, path) == 0, "opened");
		ok(db_lookup(&db, t.v[0].h, &s, &g) && s == (uint32_t)k + 1, "a word is stored at once");
		ok(!db_lookup(&db, first, &s, &g), "a pair one message of a batch holds is not stored");
		db_close(&db);
	}
	/* a batch of TOK_PAIR_MIN messages; then single messages count on */
	unlink(path);
	delta_init(&d);
	for (k = 0; k < TOK_PAIR_MIN; k++)
		delta_add(&d, &t, 0, 1);
	db_update(path, &d);
	ok(db_open(&db, path) == 0 && db_lookup(&db, first, &s, &g) && g == TOK_PAIR_MIN,
	    "a pair TOK_PAIR_MIN messages of a batch hold is stored");
	db_close(&db);
	delta_init(&d);
	delta_add(&d, &t, 0, 1);
	db_update(path, &d);
	ok(db_open(&db, path) == 0 && db_lookup(&db, first, &s, &g) && g == TOK_PAIR_MIN + 1,
	    "a stored pair counts every later message");
	db_close(&db);
	unlink(path);
	snprintf(path + strlen(path), 8, ".lock");
	unlink(path);
	rmdir(dir);
	str_free(&m);
	toks_free(&t);
}

static int
has_tok(const struct toks *t, const char *w)
{
	size_t i, n = strlen(w);
	for (i = 0; i < t->n; i++)
		if (t->v[i].len == n && !memcmp(t->text.s + t->v[i].off, w, n))
			return 1;
	return 0;
}

/* link text naming another site than the link's target */
static void
test_links(void)
{
	static const char hdr[] = "Subject: x\nContent-Type: text/html\n\n";
	struct str m = STR_INIT;
	struct toks t;
	toks_init(&t);
	str_copys(&m, hdr);
	str_cats(&m, "<p>Log in at <a href=\"http://evil.example.net/x\">https://www.Bank.com/login</a> today</p>");
	ok(tokenize(&t, m.s, m.len) == 0 && has_tok(&t, "R:link-mismatch"), "link text naming another domain");
	str_copys(&m, hdr);
	str_cats(&m, "<p>Log in at <A HREF=\"HTTPS://secure.bank.com/x\">www.bank.com</A> or <a href=\"http://a.example\">here</a></p>");
	ok(tokenize(&t, m.s, m.len) == 0 && !has_tok(&t, "R:link-mismatch"), "the same domain, or no site named: no mismatch");
	str_copys(&m, hdr);
	str_cats(&m, "<a href=\"http://evil.example.net/\">unclosed www.bank.com");
	ok(tokenize(&t, m.s, m.len) == 0 && !has_tok(&t, "R:link-mismatch"), "an unclosed link is no evidence");
	/* targets as browsers read them: scheme in any case, spaces trimmed,
	 * character references decoded, line breaks dropped, "<a/href" */
	str_copys(&m, hdr);
	str_cats(&m, "<a href=\"HtTp://s1.example/\">a</a> <a href=\" http://s2.example \">b</a>"
	    "<a href=\"&#104;ttp://s3.example\">c</a> <a href=\"ht\ntp://s4.example\">d</a>"
	    "<a/href=\"http://s5.example\">e</a> <a href=\"h&#x74;tp://www.s6.example\">www.s6.example</a>");
	ok(tokenize(&t, m.s, m.len) == 0 && has_tok(&t, "U:s1.example") && has_tok(&t, "U:s2.example")
	    && has_tok(&t, "U:s3.example") && has_tok(&t, "U:s4.example") && has_tok(&t, "U:s5.example")
	    && has_tok(&t, "U:www.s6.example") && !has_tok(&t, "R:link-mismatch"), "obfuscated link targets are read");
	/* hosts as browsers find them: a backslash ends the host, slashes
	 * either way, %XX decoded */
	str_copys(&m, hdr);
	str_cats(&m, "<a href=\"http://b1.example\\@good.example/\">a</a> <a href=\"http:\\\\b2.example\\x\">b</a>"
	    "<a href=\"http://%62%33.example/\">c</a> <a href=\"http://user@b4.example/\">d</a>");
	ok(tokenize(&t, m.s, m.len) == 0 && has_tok(&t, "U:b1.example") && !has_tok(&t, "U:good.example")
	    && has_tok(&t, "U:b2.example") && has_tok(&t, "U:b3.example") && has_tok(&t, "U:b4.example")
	    && has_tok(&t, "R:url-userinfo"), "link hosts as a browser finds them");
	/* attributes as a browser's tokenizer reads them */
	str_copys(&m, hdr);
	str_cats(&m, "<a title='href=' href=\"http://q1.example/\">a</a> <a title=\"x>tooltipword\" href=http://q2.example>b</a>"
	    "<p title=\"display:none\" data-x='style=display:none'>shown</p>");
	ok(tokenize(&t, m.s, m.len) == 0 && has_tok(&t, "U:q1.example") && has_tok(&t, "U:q2.example")
	    && !has_tok(&t, "tooltipword") && has_tok(&t, "shown") && !has_tok(&t, "R:html-hidden"),
	    "attributes: names and values, quotes holding '>', style only from style=");
	str_free(&m);
	toks_free(&t);
}

/* Fields earlier filters added are no evidence: a message with them, in
 * any spelling (case, folded, vendors' names, "Name :"), tokenises
 * exactly as the message without them. */
static void
test_filter_fields(void)
{
	static const char base[] = "From: a@example.com\nSubject: cheap pills\n";
	static const char *const added[] = {
		"X-Spam-Status: Yes, score=9.9\n", "x-spam-flag: YES\n", "X-SPAM-LEVEL: *********\n",
		"x-SpAm-Report:\n\t*  3.0 BAYES_99 body\n\t*  1.0 URIBL\n", "X-Spam-Status : No\n",
		"X-Bogosity: Spam, tests=bogofilter\n", "X-Virus-Scanned: clamav\n", "X-DSPAM-Result: Spam\n",
		"X-MailScanner-SpamCheck: spam, SpamAssassin (score=9)\n", "X-Acme-MailScanner-SpamScore: ssss\n",
		"X-Barracuda-Spam-Score: 9.0\n", "X-Barracuda-Connect: mx.example\n",
		"X-IronPort-Anti-Spam-Result: A0B\n", "X-Proofpoint-Spam-Details: rule=spam\n",
		"X-Rspamd-Action: reject\n", "X-CRM114-Status: SPAM ( -99 )\n", "X-Amavis-Alert: BANNED\n",
		"X-Mozilla-Status2: 00000000\n", "X-Microsoft-Antispam: BCL:9\n",
		"X-Forefront-Antispam-Report: SFV:SPM\n", "X-MS-Exchange-Organization-SCL: 9\n",
		"X-Mimecast-Spam-Score: 20\n", "X-Quarantine-ID: <q1>\n", "X-Junk-Score: 99\n",
		"X-Antivirus: avast\n", "X-Sophos-SenderHistory: ip=192.0.2.1\n", "X-Policyd-Weight: NOT_IN_SBL\n",
		"X-UI-Filterresults: junk:10\n", "X-Greylist: delayed 20 seconds\n"
	};
	struct str m = STR_INIT;
	struct toks a, b;
	size_t i, k, n = sizeof added / sizeof added[0], same = 0;
	toks_init(&a);
	toks_init(&b);
	str_copys(&m, base);
	str_cats(&m, "\ncheap pills now\n");
	ok(tokenize(&a, m.s, m.len) == 0, "message tokenised");
	str_copys(&m, base);
	for (i = 0; i < n; i++)
		str_cats(&m, added[i]);
	str_cats(&m, "\ncheap pills now\n");
	ok(tokenize(&b, m.s, m.len) == 0, "with the filters' fields");
	for (i = 0; i < b.n; i++)
		for (k = 0; k < a.n; k++)
			if (a.v[k].h == b.v[i].h) {
				same++;
				break;
			}
	ok(a.n == b.n && same == a.n, "the same tokens: no filter field is evidence");
	ok(!tok_header_ignored("Received", 8) && !tok_header_ignored("X-Mailer", 8) && !tok_header_ignored("Status-X", 8)
	    && !tok_header_ignored("X-Uidl", 6), "mail's own fields count");
	str_free(&m);
	toks_free(&a);
	toks_free(&b);
}

/* curly quotes, dashes and no-break spaces, as UTF-8 or windows-1252, make
 * the words plain ASCII (or &rsquo; in HTML) makes */
static void
test_punct(void)
{
	static const char *const msg[] = {
		"Subject: =?utf-8?q?=E2=80=9CFree=E2=80=9D_gift?=\nContent-Type: text/plain; charset=utf-8\n\n"
		"\xe2\x80\x9c" "Cheap\xe2\x80\x9d pills\xc2\xa0now \xe2\x80\x94 don\xe2\x80\x99t wait\xe2\x80\xa6\n",
		"Subject: =?windows-1252?q?=93Free=94_gift?=\nContent-Type: text/plain; charset=windows-1252\n\n"
		"\x93" "Cheap\x94 pills\xa0now \x97 don\x92t wait\x85\n",
		"Subject: \"Free\" gift\nContent-Type: text/html\n\n<p>&ldquo;Cheap&rdquo; pills&nbsp;now &mdash; don\xe2\x80\x99t wait</p>\n"
	};
	static const char *const want[] = { "S:free", "cheap", "pills", "now", "don't", "wait" };
	struct toks t;
	size_t i, k;
	toks_init(&t);
	for (i = 0; i < sizeof msg / sizeof msg[0]; i++) {
		int all = tokenize(&t, msg[i], strlen(msg[i])) == 0;
		for (k = 0; k < sizeof want / sizeof want[0]; k++)
			all &= has_tok(&t, want[k]);
		ok(all, i == 0 ? "UTF-8 quotes and spaces: ASCII words" : i == 1 ? "windows-1252: the same words"
		    : "HTML: the same words");
	}
	{
		static const char fw[] = "Subject: \xef\xbc\xa6\xef\xbd\x92\xef\xbd\x85\xef\xbd\x85 gift\n"
		    "Content-Type: text/plain; charset=utf-8\n\n\xef\xbc\xa3\xef\xbd\x88\xef\xbd\x85\xef\xbd\x81\xef\xbd\x90 "
		    "\xef\xbd\x90\xef\xbd\x89\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x93\n";
		ok(tokenize(&t, fw, sizeof fw - 1) == 0 && has_tok(&t, "S:free") && has_tok(&t, "cheap") && has_tok(&t, "pills"),
		    "fullwidth letters: the ASCII words they are drawn as");
	}
	{
		/* three zero-width spaces between letters made a word over the length kept */
#define Z3 "\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b"
		static const char zw[] = "Subject: x\nContent-Type: text/plain; charset=utf-8\n\nv" Z3 "i" Z3 "a" Z3 "g" Z3 "r" Z3 "a now\n";
#undef Z3
		ok(tokenize(&t, zw, sizeof zw - 1) == 0 && has_tok(&t, "viagra") && has_tok(&t, "viagra now"),
		    "zero-width characters are dropped before words are cut");
	}
	toks_free(&t);
}

/* comments end where a browser ends them: "<!-->", "<!--->", "--!>" */
static void
test_comments(void)
{
	static const char msg[] = "Subject: x\nContent-Type: text/html\n\n<p><!-->Buy cheap<!-- a --> and "
	    "<!--->tramadol<!-- b --> or <!-- c --!>viagra <!-- d -->now<!-- never closed: hidden";
	struct toks t;
	toks_init(&t);
	ok(tokenize(&t, msg, sizeof msg - 1) == 0 && has_tok(&t, "buy") && has_tok(&t, "cheap")
	    && has_tok(&t, "tramadol") && has_tok(&t, "viagra") && has_tok(&t, "now"), "text after empty comments is read");
	ok(!has_tok(&t, "never") && !has_tok(&t, "hidden"), "comments themselves are not");
	toks_free(&t);
}

/* hidden text: CSS as written, with spaces; small print is not hidden */
static void
test_hidden(void)
{
	static const char *const hid[] = { "display: none", "DISPLAY :None", "font-size: 0px", "visibility:hidden",
		"color:red;opacity:0" };
	static const char *const shown[] = { "font-size:0.9em", "font-size:10px", "opacity:0.5", "display:block" };
	struct str m = STR_INIT;
	struct toks t;
	size_t i;
	int all = 1, none = 1;
	toks_init(&t);
	for (i = 0; i < sizeof hid / sizeof hid[0] + sizeof shown / sizeof shown[0]; i++) {
		int h = i < sizeof hid / sizeof hid[0];
		str_copys(&m, "Subject: x\nContent-Type: text/html\n\n<p style=\"");
		str_cats(&m, h ? hid[i] : shown[i - sizeof hid / sizeof hid[0]]);
		str_cats(&m, "\">text</p>\n");
		if (tokenize(&t, m.s, m.len) < 0)
			all = none = 0;
		else if (h)
			all &= has_tok(&t, "R:html-hidden");
		else
			none &= !has_tok(&t, "R:html-hidden");
	}
	ok(all, "hidden-text styles are seen with spaces and in any case");
	ok(none, "small print and half transparency are not hidden text");
	str_free(&m);
	toks_free(&t);
}

/* an image's alt text is read with its character references decoded */
static void
test_alt(void)
{
	static const char msg[] = "Subject: x\nContent-Type: text/html\n\n<img alt=\"V&#105;agra &amp; C&#x69;alis\" src=a.gif>";
	struct toks t;
	toks_init(&t);
	ok(tokenize(&t, msg, sizeof msg - 1) == 0 && has_tok(&t, "viagra") && has_tok(&t, "cialis") && !has_tok(&t, "105"),
	    "alt text: references decoded");
	toks_free(&t);
}

/* filler fields do not push the Subject, From and Date out of reach */
static void
test_filler(void)
{
	struct str m = STR_INIT;
	struct toks t;
	int i;
	toks_init(&t);
	for (i = 0; i < 500; i++) {
		char f[64];
		snprintf(f, sizeof f, "X-Filler-%d: x\nX-Spam-Note-%d: x\n", i, i);
		str_cats(&m, f);
	}
	str_cats(&m, "Subject: cheap pills\nFrom: Seller <s@shop.example>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "X-Later: y\n\nbody\n");
	ok(tokenize(&t, m.s, m.len) == 0 && has_tok(&t, "S:cheap") && has_tok(&t, "F:seller") && !has_tok(&t, "R:no-date")
	    && !has_tok(&t, "R:no-subject"), "Subject, From and Date after 1,000 filler fields are read");
	ok(!has_tok(&t, "H:x-later"), "other fields past the bound are not");
	str_free(&m);
	toks_free(&t);
}

/* an attachment named by an encoded word is the name a reader shows */
static void
test_attach_name(void)
{
	static const char msg[] = "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"=?us-ascii?Q?invoice.exe?=\"\n\nMZ\n--b--\n";
	struct toks t;
	toks_init(&t);
	static const char dots[] = "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b\n"
	    "Content-Type: application/octet-stream; name=\"invoice.exe. .\"\n\nMZ\n--b--\n";
	ok(tokenize(&t, msg, sizeof msg - 1) == 0 && has_tok(&t, "R:att-exec") && has_tok(&t, "Fx:.exe"),
	    "an encoded-word file name is decoded: an executable");
	ok(tokenize(&t, dots, sizeof dots - 1) == 0 && has_tok(&t, "R:att-exec") && has_tok(&t, "Fx:.exe"),
	    "trailing dots and spaces, which Windows drops, do not hide an executable");
	toks_free(&t);
}

/* hostile bodies of 2 MB: few tokens, decoded text within its bound
 * (the work is measured outside the suite; see the commit log) */
static void
test_hostile_bounds(void)
{
	static const char *const unit[] = { "<", "&", "&a", "<a href=", "<!--", "=?utf-8?q?", "a", "\xff", "</", "&#" };
	struct str m = STR_INIT;
	struct toks t;
	size_t i, k, worst = 0;
	int all = 1;
	toks_init(&t);
	for (i = 0; i < sizeof unit / sizeof unit[0]; i++) {
		size_t ul = strlen(unit[i]);
		str_copys(&m, "Subject: x\nContent-Type: text/html; charset=utf-8\n\n");
		for (k = 0; k < (2u << 20) / ul; k++)
			str_catb(&m, unit[i], ul);
		all &= tokenize(&t, m.s, m.len) == 0 && t.textbytes <= TOK_TEXT_BYTES;
		if (t.n > worst)
			worst = t.n;
	}
	ok(all, "2 MB of '<', '&', '&a', tags, comments, encoded words, one word: tokenised within the text bound");
	ok(worst < 100, "and few tokens");
	str_free(&m);
	toks_free(&t);
}

/* a flood of junk words in the first parts leaves room for the rules */
static void
test_flood(void)
{
	struct str m = STR_INIT;
	struct toks t;
	int p, i;
	toks_init(&t);
	str_copys(&m, "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n");
	for (p = 0; p < 2; p++) {
		str_cats(&m, "--b\n\n");
		for (i = 0; i < 19000; i++) {
			char w[24];
			snprintf(w, sizeof w, "j%dx%d ", p, i);
			str_cats(&m, w);
		}
		str_cats(&m, "\n");
	}
	str_cats(&m, "--b--\n");
	ok(tokenize(&t, m.s, m.len) == 0 && t.n >= TOK_MAX - TOK_RULE_ROOM, "38,000 junk words fill the token set");
	ok(has_tok(&t, "R:no-date") && has_tok(&t, "R:no-msgid") && has_tok(&t, "R:urls-0"), "and the rules are still there");
	str_free(&m);
	toks_free(&t);
}

int
main(void)
{
	test_flood();
	test_hostile_bounds();
	test_attach_name();
	test_filler();
	test_alt();
	test_hidden();
	test_comments();
	test_punct();
	test_filter_fields();
	test_links();
	test_toks();
	test_db();
	test_pairs();
	return done();
}
