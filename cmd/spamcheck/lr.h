/* Logistic regression over the same token hashes (hashed features, L2,
 * trained by stochastic gradient descent): a discriminative model beside
 * the Robinson/Fisher one. */
#ifndef SPAMCHECK_LR_H
#define SPAMCHECK_LR_H

#include <stddef.h>
#include <stdint.h>
#include "token.h"

struct lr {
	float *w;
	size_t mask;             /* weights: mask + 1, a power of two */
	double bias;
};

/* 0 ok, -1 ENOMEM */
int lr_init(struct lr *, unsigned bits);
void lr_free(struct lr *);
void lr_reset(struct lr *);
double lr_logit(const struct lr *, const struct tok *v, size_t n);
/* one SGD step on a message of label y (1 spam, 0 ham) */
void lr_step(struct lr *, const struct tok *v, size_t n, int y, double eta, double l2);

#endif
