/* Training (learn, unlearn, correct) from stdin, files, directories and
 * Maildirs; listing verdicts for many messages in one process; k-fold
 * cross-validation in memory (the test suite's accuracy floor and the
 * calibration of the cutoffs). */
#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "lr.h"
#include "spamcheck.h"

enum {
	DIR_ENTRIES_MAX = 1000000,
	CAL_FOLDS = 5,           /* inner cross-validation of the calibration */
	CAL_MIN = 10             /* messages of each class it needs */
};
#define CAL_PRIOR 1.0
#define CAL_MAX 100.0

/* one message: its path (for messages and the log), a descriptor open on
 * it, and whether the caller named it (an unreadable one is a failure,
 * not a message skipped) */
typedef int (*msg_fn)(void *arg, const char *path, int fd, int named);

/* Symbolic links are followed only in a directory of our own (a training
 * set of links into a corpus): in another user's (root training
 * ~user/Maildir/.Junk from cron) that user could make root read a file
 * only root may, learnt into a database the user reads. */
static int
nofollow_in(int dirfd)
{
	struct stat st;
	return fstat(dirfd, &st) < 0 || st.st_uid != geteuid() ? O_NOFOLLOW : 0;
}

/* every regular, non-hidden file directly in the directory dfd (closed
 * here), named dir. A FIFO or device is skipped, never opened for
 * reading (a FIFO swapped in after a check would hang the training). */
static int
each_in_dir(int dfd, const char *dir, msg_fn fn, void *arg)
{
	DIR *d;
	struct dirent *de;
	struct str p = STR_INIT;
	unsigned n = 0;
	int e, rc = 0, flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | nofollow_in(dfd);
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return -1;
	}
	for (;;) {
		struct stat st;
		int fd;
		if (n >= DIR_ENTRIES_MAX)
			break;
		/* a directory that cannot be read to its end (EIO, a stale NFS
		 * handle) is a failure, not a folder that held fewer messages:
		 * training from it, or correcting with it, must not exit 0 */
		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				rc = -1;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (str_copys(&p, dir) < 0 || str_catc(&p, '/') < 0 || str_cats(&p, de->d_name) < 0 || str_0(&p) < 0) {
			rc = -1;
			break;
		}
		fd = openat(dirfd(d), de->d_name, flags);
		if (fd < 0) {
			if (errno != ENOENT && errno != ELOOP)   /* gone since readdir; a link */
				warn_sys("read", p.s);
			continue;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		n++;
		rc = fn(arg, p.s, fd, 0);
		close(fd);
		if (rc < 0)
			break;
	}
	e = errno;
	closedir(d);
	str_free(&p);
	errno = e;
	return rc;
}

/* A file is one message; a Maildir (it has cur/ or new/) is its new/ and
 * cur/; any other directory is every file in it. A path the caller names
 * is read as named (through a link, or a pipe such as /dev/stdin); below
 * it, links obey nofollow_in. */
static int
each_message(const char *path, msg_fn fn, void *arg)
{
	struct str sub = STR_INIT;
	struct stat st;
	int rc = 0, k, top, maildir = 0;
	if (stat(path, &st) < 0)
		return -1;   /* a path named by the caller must exist */
	if (!S_ISDIR(st.st_mode)) {
		/* named: unreadable is a failure (a correction that learnt
		 * nothing must not exit 0), where in a directory it is a
		 * message skipped */
		int e, fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		rc = fn(arg, path, fd, 1);
		e = errno;
		close(fd);
		errno = e;
		return rc;
	}
	if ((top = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (k = 0; k < 2 && rc >= 0; k++) {
		const char *name = k ? "cur" : "new";
		int fd = openat(top, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow_in(top));
		if (fd < 0) {
			struct stat ls;
			int e = errno;
			if (fstatat(top, name, &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ls.st_mode)) {
				maildir = 1;   /* a Maildir's, but a link we do not follow */
				continue;
			}
			if (e == ENOENT || e == ENOTDIR)
				continue;   /* none: not a Maildir */
			errno = e;
			rc = -1;
			break;
		}
		maildir = 1;
		if (str_copys(&sub, path) < 0 || str_catc(&sub, '/') < 0 || str_cats(&sub, name) < 0 || str_0(&sub) < 0) {
			close(fd);
			rc = -1;
			break;
		}
		rc = each_in_dir(fd, sub.s, fn, arg);
	}
	if (rc >= 0 && !maildir) {
		rc = each_in_dir(top, path, fn, arg);
		top = -1;
	}
	if (top >= 0)
		close(top);
	str_free(&sub);
	return rc < 0 ? -1 : 0;
}

/* the first max bytes of the message on fd: 0; unreadable, 1 (warned:
 * skip it) in a directory, -1 (errno) when named on the command line */
static int
read_msg(int fd, const char *path, struct str *s, size_t max, int named)
{
	int eof;
	if (read_prefix(fd, s, max, &eof) < 0) {
		if (named)
			return -1;
		warn_sys("read", path);
		return 1;
	}
	return 0;
}

struct trainctx {
	const struct opts *o;
	struct db_delta d;
	struct toks t;
	struct str msg;
	int dspam, dham;
	unsigned count;
};

/* No bytes is no message: 'fetch | spamcheck -s' after fetch failed
 * would teach the structural tokens of an empty message (no Date, no
 * Subject, no links) as spam, tokens most ham shares. 1: skip it (in a
 * directory; warned); named (or standard input): a failure. */
static int
empty_message(const struct str *msg, const char *path, int named)
{
	if (msg->len)
		return 0;
	if (named)
		die_x(EXIT_TEMP, "learn", path, "empty: no message");
	warn_x("learn", path, "empty: skipped");
	return 1;
}

/* path: for messages; named: given by the caller (or standard input) */
static int
learn_bytes(struct trainctx *c, const char *path, int named)
{
	if (empty_message(&c->msg, path, named))
		return 0;
	if (tokenize(&c->t, c->msg.s ? c->msg.s : "", c->msg.len) < 0
	    || delta_add(&c->d, &c->t, c->dspam, c->dham) < 0)
		die_nomem(EXIT_TEMP);
	c->count++;
	return 0;
}

static int
learn_file(void *arg, const char *path, int fd, int named)
{
	struct trainctx *c = arg;
	int rc = read_msg(fd, path, &c->msg, c->o->prefix, named);
	if (rc)
		return rc < 0 ? -1 : 0;
	return learn_bytes(c, path, named);
}

int
run_train(const struct opts *o, int dspam, int dham, char **paths)
{
	struct trainctx c;
	struct logline l;
	const char *db = o->userdb ? o->userdb : o->dbpath;
	int eof;
	memset(&c, 0, sizeof c);
	c.o = o;
	c.dspam = dspam;
	c.dham = dham;
	delta_init(&c.d);
	toks_init(&c.t);
	if (!*paths) {
		if (read_prefix(0, &c.msg, o->prefix, &eof) < 0)
			die_sys(EXIT_TEMP, "read", "message");
		learn_bytes(&c, "standard input", 1);
	}
	for (; *paths; paths++)
		if (each_message(*paths, learn_file, &c) < 0)
			die_sys(EXIT_TEMP, "read", *paths);
	if (db_update(db, &c.d) < 0)
		die_sys(EXIT_TEMP, "update", db);
	log_begin(&l, "train");
	log_kv(&l, "db", db);
	log_kvu(&l, "messages", c.count);
	log_kv(&l, "as", dspam > 0 ? "spam" : dham > 0 ? "ham" : "forget");
	log_kv(&l, "correction", dspam && dham ? "yes" : "no");
	log_end(&l);
	toks_free(&c.t);
	str_free(&c.msg);
	return EXIT_OK;
}

struct listctx {
	const struct opts *o;
	struct classifier c;
	struct str msg, line;
	struct buf out;
};

/* a path in -l's and -v's output, then a newline: a control character
 * (a newline in a file name in a user's folder) becomes '?', so that
 * each message is one line and no name forges a line for another file
 * in a script reading the list */
static int
cat_path(struct str *s, const char *path)
{
	const char *p;
	for (p = path; *p; p++)
		if (str_catc(s, (unsigned char)*p < 32 || *p == 127 ? '?' : *p) < 0)
			return -1;
	return str_catc(s, '\n');
}

static int
list_file(void *arg, const char *path, int fd, int named)
{
	struct listctx *x = arg;
	struct result r;
	char sc[32];
	int rc = read_msg(fd, path, &x->msg, x->o->prefix, named);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (classify(&x->c, x->o, x->msg.s ? x->msg.s : "", x->msg.len, &r) < 0)
		die_nomem(EXIT_TEMP);
	if (snprintf(sc, sizeof sc, " %.6f ", r.score) >= (int)sizeof sc)
		die_x(EXIT_TEMP, "format", "score", "too long");
	x->line.len = 0;
	if (str_cats(&x->line, verdict_name(r.v)) < 0 || str_cats(&x->line, sc) < 0 || cat_path(&x->line, path) < 0)
		die_nomem(EXIT_TEMP);
	if (buf_put(&x->out, x->line.s, x->line.len) < 0)
		die_sys(EXIT_TEMP, "write", "output");
	return 0;
}

int
run_list(const struct opts *o, char **paths)
{
	struct listctx x;
	char space[BUF_SIZE];
	memset(&x, 0, sizeof x);
	x.o = o;
	buf_init(&x.out, 1, space, sizeof space);
	if (classifier_open(&x.c, o) < 0)
		die_sys(EXIT_TEMP, "open", o->dbpath);
	for (; *paths; paths++)
		if (each_message(*paths, list_file, &x) < 0)
			die_sys(EXIT_TEMP, "read", *paths);
	if (buf_flush(&x.out) < 0)
		die_sys(EXIT_TEMP, "write", "output");
	classifier_close(&x.c);
	str_free(&x.msg);
	str_free(&x.line);
	return EXIT_OK;
}

/* the tokens of one message, one per line: what the classifier sees */
int
run_tokens(const struct opts *o)
{
	struct str msg = STR_INIT;
	struct toks t;
	struct buf out;
	char space[BUF_SIZE];
	size_t i;
	int eof;
	toks_init(&t);
	buf_init(&out, 1, space, sizeof space);
	if (read_prefix(0, &msg, o->prefix, &eof) < 0)
		die_sys(EXIT_TEMP, "read", "message");
	if (tokenize(&t, msg.s ? msg.s : "", msg.len) < 0)
		die_nomem(EXIT_TEMP);
	if (t.gtube && buf_puts(&out, "GTUBE\n") < 0)
		die_sys(EXIT_TEMP, "write", "output");
	for (i = 0; i < t.n; i++)
		if (buf_put(&out, t.text.s + t.v[i].off, t.v[i].len) < 0 || buf_puts(&out, "\n") < 0)
			die_sys(EXIT_TEMP, "write", "output");
	if (buf_flush(&out) < 0)
		die_sys(EXIT_TEMP, "write", "output");
	toks_free(&t);
	str_free(&msg);
	return EXIT_OK;
}

/* ---- cross-validation ---- */

struct cvmsg {
	size_t off, n;           /* its token hashes in cv.h */
	double base;             /* log-odds from the global weights, when fitting a per-user database */
	int spam, gtube;
	unsigned fold, inner;    /* outer fold; fold of the calibration's inner cross-validation */
	double fx, lx;           /* out-of-fold Fisher term and regression log-odds, for the calibration */
	size_t name;             /* offset in cv.names */
};

struct cv {
	const struct opts *o;
	unsigned k;
	int spam;
	int fixfold;             /* >= 0: every message loaded goes in this fold (-X) */
	struct cvmsg *m;
	size_t nm, capm;
	struct tok *h;
	size_t nh, caph;
	struct str names, msg;
	struct toks t;
};

static int
cv_file(void *arg, const char *path, int fd, int named)
{
	struct cv *c = arg;
	struct cvmsg *m;
	const char *base = strrchr(path, '/');
	size_t i;
	int rc = read_msg(fd, path, &c->msg, c->o->prefix, named);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (empty_message(&c->msg, path, named))
		return 0;
	if (tokenize(&c->t, c->msg.s ? c->msg.s : "", c->msg.len) < 0)
		die_nomem(EXIT_TEMP);
	if (c->nm == c->capm) {
		c->capm = c->capm ? c->capm * 2 : 1024;
		if (!(c->m = realloc(c->m, c->capm * sizeof *c->m)))
			die_nomem(EXIT_TEMP);
	}
	while (c->nh + c->t.n > c->caph) {
		c->caph = c->caph ? c->caph * 2 : 1 << 20;
		if (!(c->h = realloc(c->h, c->caph * sizeof *c->h)))
			die_nomem(EXIT_TEMP);
	}
	m = &c->m[c->nm++];
	m->off = c->nh;
	m->n = c->t.n;
	m->spam = c->spam;
	m->gtube = c->t.gtube;
	base = base ? base + 1 : path;
	m->base = 0;
	m->fold = c->fixfold >= 0 ? (unsigned)c->fixfold
	    : (unsigned)(tok_hash(base, strlen(base)) % c->k);   /* by name: stable across runs */
	m->inner = (unsigned)((tok_hash(base, strlen(base)) / 7919) % CAL_FOLDS);
	m->name = c->names.len;
	if (str_cats(&c->names, path) < 0 || str_catc(&c->names, 0) < 0)
		die_nomem(EXIT_TEMP);
	for (i = 0; i < c->t.n; i++)
		c->h[c->nh++] = c->t.v[i];
	return 0;
}

static void
cv_count(struct db_delta *d, const struct cv *c, const struct cvmsg *m, int sign)
{
	struct toks t;
	toks_init(&t);
	t.v = c->h + m->off;
	t.n = m->n;
	if (delta_add(d, &t, m->spam ? sign : 0, m->spam ? 0 : sign) < 0)
		die_nomem(EXIT_TEMP);
}

static int
cv_lookup(void *arg, uint64_t h, double *spam, double *ham, double *w)
{
	const struct delta_slot *p = delta_find(arg, h);
	if (!p)
		return 0;
	*spam = p->spam;
	*ham = p->ham;
	*w = p->wset ? p->w : 0;
	return (p->spam > 0 || p->ham > 0) && delta_live(p);
}

/* is m left out: in the outer fold skip, or the inner fold iskip (>= 0) */
static int
cv_skipped(const struct cvmsg *m, unsigned skip, int iskip)
{
	return m->fold == skip || (iskip >= 0 && m->inner == (unsigned)iskip);
}

/* The regression: o->m.epochs passes of SGD over the messages of c not
 * left out (cv_skipped), each pass in a new random order (a pass in
 * class order would learn one class, then unlearn it), the step
 * shrinking as 1 / pass. */
static void
fit(const struct opts *o, struct db_delta *d, const struct cv *c, unsigned skip, int iskip)
{
	size_t *perm, np, i, j, t;
	uint64_t rnd = 0x9e3779b97f4a7c15ULL * (o->m.seed + 1);
	unsigned ep;
	if (!o->m.epochs)
		return;
	if (!(perm = calloc(c->nm ? c->nm : 1, sizeof *perm)))
		die_nomem(EXIT_TEMP);
	for (ep = 0; ep < o->m.epochs; ep++) {
		for (np = i = 0; i < c->nm; i++)
			if (!cv_skipped(&c->m[i], skip, iskip))
				perm[np++] = i;
		for (i = np; i > 1; i--) {   /* Fisher-Yates, xorshift64 */
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			j = (size_t)(rnd % i);
			t = perm[i - 1];
			perm[i - 1] = perm[j];
			perm[j] = t;
		}
		for (i = 0; i < np; i++) {
			const struct cvmsg *m = &c->m[perm[i]];
			lr_step(d, c->h + m->off, m->n, m->spam, m->base, o->m.eta / (1 + ep), o->m.l2);
		}
	}
	free(perm);
}

static void
cv_more(struct cv *c, const char *spam, const char *ham)
{
	c->spam = 1;
	if (each_message(spam, cv_file, c) < 0)
		die_sys(EXIT_TEMP, "read", spam);
	c->spam = 0;
	if (each_message(ham, cv_file, c) < 0)
		die_sys(EXIT_TEMP, "read", ham);
}

static void
cv_init(struct cv *c, const struct opts *o, unsigned k)
{
	memset(c, 0, sizeof *c);
	c->o = o;
	c->k = k;
	c->fixfold = -1;
	toks_init(&c->t);
}

static void
cv_load(struct cv *c, const struct opts *o, unsigned k, const char *spam, const char *ham)
{
	cv_init(c, o, k);
	cv_more(c, spam, ham);
}

static void
cv_free(struct cv *c)
{
	toks_free(&c->t);
	free(c->m);
	free(c->h);
	str_free(&c->names);
	str_free(&c->msg);
}

/* Calibration (Platt scaling): the combined log-odds are
 * a * clamp(Fisher / scale) + b * regression, with a and b fitted by
 * logistic regression on out-of-fold scores of the training messages
 * (CAL_FOLDS-fold cross-validation inside the training set: a model never
 * scores a message it was trained on, which would make both terms look
 * surer than they are). Each class weighs half, and there is no
 * intercept: the score says how the message's evidence weighs, not how
 * much spam the training set held. d holds the counts of every training
 * message (fold skip excluded) on entry and on return; its weights are
 * left zeroed. Sets d->cal_a, d->cal_b. */
static void
calibrate(const struct opts *o, struct db_delta *d, struct cv *c, unsigned skip)
{
	double a = 1, b = o->m.lrw, ns = 0, nh = 0, lambda;
	size_t i;
	unsigned f, it;
	for (i = 0; i < c->nm; i++)
		if (c->m[i].fold != skip)
			*(c->m[i].spam ? &ns : &nh) += 1;
	if (ns < CAL_MIN || nh < CAL_MIN || !o->m.epochs) {
		d->cal_a = d->cal_b = 0;   /* too few to tell: the uncalibrated defaults */
		d->calset = 1;
		return;
	}
	for (f = 0; f < CAL_FOLDS; f++) {
		for (i = 0; i < c->nm; i++)
			if (c->m[i].fold != skip && c->m[i].inner == f)
				cv_count(d, c, &c->m[i], -1);
		lr_zero(d);
		fit(o, d, c, skip, (int)f);
		for (i = 0; i < c->nm; i++) {
			struct toks t;
			struct result r;
			if (c->m[i].fold == skip || c->m[i].inner != f)
				continue;
			toks_init(&t);
			t.v = c->h + c->m[i].off;
			t.n = c->m[i].n;
			score_counts(&o->m, &t, cv_lookup, d, (double)d->nspam, (double)d->nham, 0, 1, 0, &r);
			c->m[i].fx = r.fterm;
			c->m[i].lx = r.lrlogit;
		}
		for (i = 0; i < c->nm; i++)
			if (c->m[i].fold != skip && c->m[i].inner == f)
				cv_count(d, c, &c->m[i], 1);
	}
	lr_zero(d);
	/* Newton's method on the weighted log-loss plus a pull towards the
	 * uncalibrated weights (1, lrw) that weighs about as much as
	 * CAL_PRIOR training messages together: a few
	 * dozen messages (one user's folders) cannot fit it wildly, and
	 * separable scores do not send it to infinity */
	lambda = CAL_PRIOR / (ns + nh);
	for (it = 0; it < 50; it++) {
		double ga = lambda * (a - 1), gb = lambda * (b - o->m.lrw), haa = lambda, hab = 0, hbb = lambda, det, da, db;
		for (i = 0; i < c->nm; i++) {
			const struct cvmsg *m = &c->m[i];
			double z, p, w, g, h;
			if (m->fold == skip)
				continue;
			w = 0.5 / (m->spam ? ns : nh);
			z = a * m->fx + b * m->lx;
			p = 1 / (1 + exp(-(z > 30 ? 30 : z < -30 ? -30 : z)));
			g = w * (p - m->spam);
			h = w * p * (1 - p);
			ga += g * m->fx;
			gb += g * m->lx;
			haa += h * m->fx * m->fx;
			hab += h * m->fx * m->lx;
			hbb += h * m->lx * m->lx;
		}
		det = haa * hbb - hab * hab;
		if (!(det > 0))
			break;
		da = (hbb * ga - hab * gb) / det;
		db = (haa * gb - hab * ga) / det;
		a -= da;
		b -= db;
		if (fabs(da) + fabs(db) < 1e-6)
			break;
	}
	/* a negative weight would be a fluke of few messages */
	d->cal_a = a > 0 && a < CAL_MAX ? a : a >= CAL_MAX ? CAL_MAX : 0;
	d->cal_b = b > 0 && b < CAL_MAX ? b : b >= CAL_MAX ? CAL_MAX : 0;
	d->calset = 1;
}

static int
global_empty(const char *path)
{
	struct db g;
	int empty;
	if (db_open(&g, path) < 0)
		die_sys(EXIT_TEMP, "open", path);
	empty = g.count == 0;
	db_close(&g);
	return empty;
}

/* -L: learn both classes' counts and fit the regression on them, starting
 * from the database's weights; a per-user database's weights are fitted
 * on top of the global ones, since classification adds the two */
int
run_learn(const struct opts *o, const char *spam, const char *ham)
{
	struct cv c;
	struct db_delta d;
	struct db old;
	struct logline l;
	const char *db = o->userdb ? o->userdb : o->dbpath;
	char cal[64];
	size_t i;
	int lfd;
	cv_load(&c, o, 1, spam, ham);
	delta_init(&d);
	for (i = 0; i < c.nm; i++)
		cv_count(&d, &c, &c.m[i], 1);
	/* the fit starts from the database's weights, so it reads them and
	 * merges under one lock: a concurrent -L (another user's cron job
	 * on the global database) fits on top of this one's, never beside it
	 * (the later rename would drop the earlier one's weights) */
	if ((lfd = db_lock(db)) < 0)
		die_sys(EXIT_TEMP, "lock", db);
	if (db_open_replace(&old, db) < 0)
		die_sys(EXIT_TEMP, "open", db);
	/* calibrated on these messages alone, when they are at least as
	 * many as the database held (else a small batch would recalibrate
	 * a large model); a per-user database uses the global calibration,
	 * unless the global database is empty */
	if (c.nm >= old.nspam + old.nham && (!o->userdb || global_empty(o->dbpath)))
		calibrate(o, &d, &c, c.k);
	for (i = 0; i < d.cap; i++)
		if (d.v[i].used) {
			uint32_t s, g;
			double w = 0;
			d.v[i].stored = (uint8_t)db_lookup_w(&old, d.v[i].h, &s, &g, &w);
			d.v[i].w = (float)w;
			d.v[i].wset = 1;
		}
	d.bias = old.bias;
	d.biasset = 1;
	db_close(&old);
	if (o->userdb) {
		if (db_open(&old, o->dbpath) < 0)
			die_sys(EXIT_TEMP, "open", o->dbpath);
		for (i = 0; i < c.nm; i++) {
			const struct tok *v = c.h + c.m[i].off;
			size_t j;
			double sum = 0, w;
			uint32_t s, g;
			for (j = 0; j < c.m[i].n; j++)
				if (db_lookup_w(&old, v[j].h, &s, &g, &w))
					sum += w;
			c.m[i].base = old.bias + sum * lr_xscale(v, c.m[i].n);
		}
		db_close(&old);
	}
	fit(o, &d, &c, c.k, -1);
	cal[0] = 0;
	if (d.calset && d.cal_a == 0 && d.cal_b == 0)
		memcpy(cal, "none", 5);
	else if (d.calset && snprintf(cal, sizeof cal, "%.3f,%.3f", d.cal_a, d.cal_b) >= (int)sizeof cal)
		cal[0] = 0;   /* not a fit to log */
	if (db_update_locked(db, &d) < 0)
		die_sys(EXIT_TEMP, "update", db);
	close(lfd);
	log_begin(&l, "learn");
	log_kv(&l, "db", db);
	log_kvu(&l, "messages", c.nm);
	if (cal[0])
		log_kv(&l, "calibration", cal);
	log_end(&l);
	delta_free(&d);
	cv_free(&c);
	return EXIT_OK;
}

/* score each fold of c with a model trained on the others; k folds tested */
static int
cv_eval(const struct opts *o, struct cv *cp, unsigned k)
{
	struct cv c = *cp;
	struct db_delta d;
	unsigned f, fp = 0, fn = 0, us = 0, uh = 0, ns = 0, nh = 0;
	size_t i;
	char line[512];
	struct str vline = STR_INIT;
	int len;
	delta_init(&d);
	for (i = 0; i < c.nm; i++)
		cv_count(&d, &c, &c.m[i], 1);
	for (f = 0; f < k; f++) {
		for (i = 0; i < c.nm; i++)
			if (c.m[i].fold == f)
				cv_count(&d, &c, &c.m[i], -1);
		lr_zero(&d);
		calibrate(o, &d, &c, f);
		lr_zero(&d);
		fit(o, &d, &c, f, -1);
		for (i = 0; i < c.nm; i++) {
			struct toks t;
			struct result r;
			if (c.m[i].fold != f)
				continue;
			toks_init(&t);
			t.v = c.h + c.m[i].off;
			t.n = c.m[i].n;
			t.gtube = c.m[i].gtube;
			score_counts(&o->m, &t, cv_lookup, &d, (double)d.nspam, (double)d.nham, d.bias, d.cal_a, d.cal_b, &r);
			if (c.m[i].spam) {
				ns++;
				fn += r.v == V_HAM;
				us += r.v == V_UNSURE;
			} else {
				nh++;
				fp += r.v == V_SPAM;
				uh += r.v == V_UNSURE;
			}
			if (o->verbose) {
				/* class verdict logit Fisher-logit regression-logit tokens-used path */
				/* the path apart: a long one must not drop the line */
				len = snprintf(line, sizeof line, "%s %s %.6f %.6f %.6f %u ", c.m[i].spam ? "spam" : "ham",
				    verdict_name(r.v), r.logit, r.flogit, r.lrlogit, r.used);
				vline.len = 0;
				if (len < 0 || (size_t)len >= sizeof line)
					die_x(EXIT_TEMP, "format", "scores", "too long");
				if (str_catb(&vline, line, (size_t)len) < 0 || cat_path(&vline, c.names.s + c.m[i].name) < 0)
					die_nomem(EXIT_TEMP);
				if (buf_writeall(1, vline.s, vline.len, 0, 0) < 0)
					die_sys(EXIT_TEMP, "write", "output");
			}
		}
		for (i = 0; i < c.nm; i++)
			if (c.m[i].fold == f)
				cv_count(&d, &c, &c.m[i], 1);
	}
	len = snprintf(line, sizeof line,
	    "folds=%u spam=%u ham=%u fp=%u fn=%u unsure_spam=%u unsure_ham=%u"
	    " fp%%=%.3f fn%%=%.3f unsure%%=%.3f fn+unsure%%=%.3f\n",
	    k, ns, nh, fp, fn, us, uh, nh ? 100.0 * fp / nh : 0, ns ? 100.0 * fn / ns : 0,
	    ns + nh ? 100.0 * (us + uh) / (ns + nh) : 0, ns ? 100.0 * (fn + us) / ns : 0);
	if (len < 0 || (size_t)len >= sizeof line || buf_writeall(1, line, (size_t)len, 0, 0) < 0)
		die_sys(EXIT_TEMP, "write", "output");
	delta_free(&d);
	cv_free(&c);
	str_free(&vline);
	return EXIT_OK;
}

int
run_cv(const struct opts *o, unsigned k, const char *spam, const char *ham)
{
	struct cv c;
	cv_load(&c, o, k, spam, ham);
	return cv_eval(o, &c, k);
}

/* -X: train on one set, score another (e.g. older mail against newer) */
int
run_split(const struct opts *o, char **dirs)
{
	struct cv c;
	cv_init(&c, o, 2);
	c.fixfold = 1;
	cv_more(&c, dirs[0], dirs[1]);
	c.fixfold = 0;
	cv_more(&c, dirs[2], dirs[3]);
	return cv_eval(o, &c, 1);
}
