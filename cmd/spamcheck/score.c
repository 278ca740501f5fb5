/* Robinson/Fisher scoring (as in SpamBayes' chi-square classifier):
 * S = 1 - chi2Q(-2 sum ln(1-f), 2n), H = 1 - chi2Q(-2 sum ln f, 2n),
 * score = (1 + S - H) / 2, with chi2Q summed in log space so that long
 * messages cannot underflow it. */
#include <stdlib.h>
#include <math.h>
#include "lr.h"
#include "score.h"

void
model_defaults(struct model *m)
{
	/* calibrated by 3-, 5- and 10-fold cross-validation on the training
	 * corpus (spamcheck -v -x, tests/bench/spamcheck); the cutoffs aim at
	 * <= 0.1% false positives */
	m->s = 0.0178;
	m->x = 0.52;
	m->mindev = 0.4;
	m->maxtok = TOK_MAX;
	m->comb = 1;
	m->scale = 2;
	/* also checked on a temporal split (spamcheck -X: trained on older
	 * mail, scored on newer, and the reverse), where unfamiliar mail
	 * should come out unsure rather than wrong: Fisher alone (2) cannot
	 * outweigh a disagreeing regression as easily as before, and a
	 * spam verdict needs some evidence (minspam telling tokens); the
	 * regression's intercept is left out (below) */
	m->fclamp = 2;          /* Fisher weighs at most log-odds 2 */
	m->lrw = 0.7;
	/* 5, not 8: calibrated scores of spam with 5 to 7 telling tokens
	 * were sure and right, in cross-validation and both temporal
	 * directions, and no ham scored so high with so few */
	m->minspam = 5;
	m->prior = 0;
	/* The cutoffs are probabilities: a database trained with -L is
	 * calibrated (train.c), so that its score is the probability of spam
	 * for evidence like the message's, the classes weighed alike. A
	 * false positive costs far more than a miss: spam needs odds of 49
	 * to 1, ham 7 to 1 (log-odds -2, which Fisher alone reaches in a
	 * database trained with -s/-n only), and an SMTP refusal 2000 to 1
	 * (no ham scored so high in cross-validation or either temporal
	 * direction; their highest, 7.0, was a newsletter scored by a model
	 * that had seen none) */
	m->ham_cut = 0.12;
	m->spam_cut = 0.98;
	m->reject_cut = 0.9995;
	/* a database without calibration (trained with -s/-n only, or by an
	 * older spamcheck) scores Fisher plus 0.7 times the regression, as
	 * before, with the cutoffs it had: log-odds 1 and 5.3 */
	m->spam_cut_uncal = 0.73;
	m->reject_cut_uncal = 0.995;
	m->cutset = 0;
	m->epochs = 10;
	m->seed = 1;
	m->eta = 32;
	m->l2 = 1e-3;
}


/* ln chi2Q(x2, v) for even v */
static double
lchi2q(double x2, unsigned v)
{
	double m = x2 / 2, lterm, lsum;
	unsigned i;
	if (m <= 0)
		return 0;
	lterm = lsum = -m;
	for (i = 1; i < v / 2; i++) {
		lterm += log(m / i);
		lsum = lsum > lterm ? lsum + log1p(exp(lterm - lsum)) : lterm + log1p(exp(lsum - lterm));
	}
	return lsum >= 0 ? 0 : lsum;
}

static double
chi2q(double x2, unsigned v)
{
	return exp(lchi2q(x2, v));
}

struct cand {
	double f, dev;
	size_t idx;
};

static int
cmp_dev(const void *a, const void *b)
{
	double x = ((const struct cand *)a)->dev, y = ((const struct cand *)b)->dev;
	return x < y ? 1 : x > y ? -1 : 0;
}

void
score_counts(const struct model *m, const struct toks *t, count_fn fn, void *arg,
    double nspam, double nham, double bias, double cal_a, double cal_b, struct result *r)
{
	static struct cand c[TOK_MAX];   /* one per token at most */
	size_t i, nc = 0;
	double ls = 0, lh = 0, S, H, wsum = 0, fl, spam_cut, reject_cut;
	int uncal;
	r->score = 0.5;
	r->logit = r->flogit = r->lrlogit = r->fterm = 0;
	r->used = 0;
	r->nreason = 0;
	r->gtube = t->gtube;
	r->reject = 0;
	if (t->gtube) {
		r->score = 1;
		r->v = V_SPAM;
		r->reject = m->reject_cut < 1;
		return;
	}
	for (i = 0; i < t->n && nspam > 0 && nham > 0; i++) {
		double s, g, w, ps, ph, p, n, f, dev;
		if (!fn(arg, t->v[i].h, &s, &g, &w))
			continue;
		wsum += w;
		if (t->v[i].pair)
			continue;   /* pairs are the regression's: Fisher would count their words twice */
		ps = s / nspam;
		ph = g / nham;
		if (ps + ph <= 0)
			continue;
		p = ps / (ps + ph);
		n = s + g;
		f = (m->s * m->x + n * p) / (m->s + n);
		dev = f > 0.5 ? f - 0.5 : 0.5 - f;
		if (dev < m->mindev)
			continue;
		c[nc].f = f < 1e-6 ? 1e-6 : f > 1 - 1e-6 ? 1 - 1e-6 : f;
		c[nc].dev = dev;
		c[nc++].idx = i;
	}
	qsort(c, nc, sizeof c[0], cmp_dev);
	if (nc > m->maxtok)
		nc = m->maxtok;
	for (i = 0; i < nc; i++) {
		ls += log(1 - c[i].f);
		lh += log(c[i].f);
	}
	if (nc && m->comb == 0) {
		double sc;
		S = 1 - chi2q(-2 * ls, 2 * (unsigned)nc);
		H = 1 - chi2q(-2 * lh, 2 * (unsigned)nc);
		sc = (1 + S - H) / 2;
		r->flogit = log((sc + 1e-300) / (1 - sc + 1e-300));
	} else if (nc && m->comb == 1) {
		/* Qh / (Qh + Qs): still ordered when both tails vanish */
		double lqs = lchi2q(-2 * ls, 2 * (unsigned)nc), lqh = lchi2q(-2 * lh, 2 * (unsigned)nc);
		r->flogit = lqh - lqs;
	}
	/* Fisher's log-odds run to the hundreds on long messages: bounded, so
	 * that they weigh like one strong piece of evidence beside the
	 * regression's, which is calibrated */
	fl = r->flogit / m->scale;
	/* the intercept learns the training set's share of spam, which says
	 * nothing about the next message (on a temporal split it called
	 * 40% of the newer spam ham): fitted, then left out, unless -T prior=1 */
	r->lrlogit = (m->prior ? bias : 0) + wsum * lr_xscale(t->v, t->n);
	r->fterm = fl > m->fclamp ? m->fclamp : fl < -m->fclamp ? -m->fclamp : fl;
	uncal = cal_a == 0 && cal_b == 0;
	if (uncal)
		cal_a = 1, cal_b = m->lrw;
	r->logit = cal_a * r->fterm + cal_b * r->lrlogit;
	r->score = 1 / (1 + exp(-r->logit));
	r->used = (unsigned)nc;
	spam_cut = uncal && !m->cutset ? m->spam_cut_uncal : m->spam_cut;
	reject_cut = uncal && !m->cutset ? m->reject_cut_uncal : m->reject_cut;
	r->v = r->score >= spam_cut ? V_SPAM : r->score <= m->ham_cut ? V_HAM : V_UNSURE;
	if (r->v == V_SPAM && nc < m->minspam)
		r->v = V_UNSURE;   /* too little evidence to call it spam */
	for (i = 0; i < nc && r->nreason < SCORE_REASONS; i++)
		if ((r->score >= 0.5) == (c[i].f >= 0.5)) {
			r->reason[r->nreason] = c[i].idx;
			r->reason_f[r->nreason++] = c[i].f;
		}
	r->reject = r->v == V_SPAM && reject_cut < 1 && r->score >= reject_cut;
}

struct two {
	const struct db *g, *u;
};

static int
two_counts(void *arg, uint64_t h, double *spam, double *ham, double *w)
{
	struct two *d = arg;
	uint32_t s, g;
	double x;
	int found = 0;
	*spam = *ham = *w = 0;
	if (d->g && db_lookup_w(d->g, h, &s, &g, &x)) {
		*spam += s;
		*ham += g;
		*w += x;
		found = 1;
	}
	if (d->u && db_lookup_w(d->u, h, &s, &g, &x)) {
		*spam += s;
		*ham += g;
		*w += x;
		found = 1;
	}
	return found;
}

void
score(const struct model *m, const struct toks *t, const struct db *global, const struct db *user, struct result *r)
{
	struct two d = { global, user };
	double ns = (global ? (double)global->nspam : 0) + (user ? (double)user->nspam : 0);
	double nh = (global ? (double)global->nham : 0) + (user ? (double)user->nham : 0);
	/* the global database's calibration (a per-user one's weights are
	 * fitted on top of it), or the user's alone */
	const struct db *cal = global && global->count ? global : user;
	score_counts(m, t, two_counts, &d, ns, nh, (global ? global->bias : 0) + (user ? user->bias : 0),
	    cal ? cal->cal_a : 0, cal ? cal->cal_b : 0, r);
}
