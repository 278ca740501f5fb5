/* Logistic regression over the same tokens (presence features scaled by
 * 1/sqrt(tokens), L2, trained by stochastic gradient descent), beside the
 * Robinson/Fisher model: the weights live with the token counts, in the
 * training delta while learning and in the database after. */
#ifndef SPAMCHECK_LR_H
#define SPAMCHECK_LR_H

#include <stddef.h>
#include "db.h"
#include "token.h"

/* the logit of a message from the delta's weights (a token without a set
 * weight counts 0) */
double lr_logit_delta(const struct db_delta *, const struct tok *v, size_t n);
/* one SGD step on a message of label y (1 spam, 0 ham) whose log-odds
 * from elsewhere (the global database's weights, when fitting a per-user
 * one) are base; its tokens must have slots (delta_add'ed) */
void lr_step(struct db_delta *, const struct tok *v, size_t n, int y, double base, double eta, double l2);
/* every weight and the intercept back to 0 */
void lr_zero(struct db_delta *);
/* the feature scale of a message of n tokens: 1 / sqrt(its single tokens, pairs left out) */
double lr_xscale(const struct tok *v, size_t n);

#endif
