/* The statistical model: Robinson's per-token estimate f(w) with a
 * Bayesian prior, Fisher's chi-square combination of the most telling
 * tokens (spam and ham evidence both), over one or two databases (global
 * plus per-user, counts added); its log-odds, bounded, added to those of a
 * logistic regression over the same tokens (weights added likewise),
 * the two weighed by the database's calibration. */
#ifndef SPAMCHECK_SCORE_H
#define SPAMCHECK_SCORE_H

#include "db.h"
#include "token.h"

enum { SCORE_REASONS = 5 };

struct model {
	double s, x;             /* prior strength and prior probability */
	double mindev;           /* tokens with |f - 0.5| below this are ignored */
	unsigned maxtok;         /* most extreme tokens used */
	unsigned comb;           /* 0 Fisher (1 + S - H) / 2, 1 ratio of the two chi-square tails */
	double scale;            /* Fisher log-odds / scale, for comb 1 */
	double fclamp, lrw;      /* logit = clamp(Fisher / scale, +-fclamp) + lrw * regression logit */
	unsigned prior;          /* 1: the regression's intercept (training-set spam share) counts */
	unsigned minspam;        /* a spam verdict needs at least this many tokens used */
	double ham_cut, spam_cut, reject_cut;   /* probabilities, for a calibrated database */
	double spam_cut_uncal, reject_cut_uncal;   /* for one without calibration, unless cutset */
	unsigned cutset;         /* -C or -R given: spam_cut and reject_cut for every database */
	unsigned epochs, seed;   /* logistic regression: SGD passes (0: none), shuffle seed */
	double eta, l2;          /* its step size and L2 strength */
};

enum verdict { V_HAM, V_UNSURE, V_SPAM };

struct result {
	double score;            /* 0 ham .. 1 spam: 1 / (1 + exp(-logit)) */
	double logit;            /* the combined log-odds */
	double flogit, lrlogit;  /* Fisher's (unscaled) and the regression's */
	double fterm;            /* Fisher's, scaled and bounded */
	enum verdict v;
	int reject;              /* spam at or above the reject cutoff */
	unsigned used;           /* tokens that counted */
	int gtube;
	size_t reason[SCORE_REASONS];   /* token indexes, most telling first */
	double reason_f[SCORE_REASONS];
	unsigned nreason;
};

void model_defaults(struct model *);
/* counts and regression weight for token h; 0 if unknown */
typedef int (*count_fn)(void *arg, uint64_t h, double *spam, double *ham, double *w);
/* The log-odds are
 * cal_a * clamp(Fisher / scale, +-fclamp) + cal_b * regression, where
 * cal_a and cal_b come from the database's calibration (train.c); 0 and 0
 * (none fitted: a database trained with -s/-n only, or an older one)
 * mean 1 and lrw. */
void score_counts(const struct model *, const struct toks *, count_fn, void *arg,
    double nspam, double nham, double bias, double cal_a, double cal_b, struct result *);
void score(const struct model *, const struct toks *, const struct db *global, const struct db *user, struct result *);

#endif
