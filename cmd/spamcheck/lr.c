/* Logistic regression by SGD over the token slots of a training delta,
 * and its logit from the databases at classification time. */
#include <math.h>
#include "lr.h"

double
lr_xscale(const struct tok *v, size_t n)
{
	size_t i, k = 0;
	/* long and short messages step alike; pairs add to the words'
	 * evidence rather than thin it out (and a database trained without
	 * them scores as it did) */
	for (i = 0; i < n; i++)
		k += !v[i].pair;
	return k ? 1 / sqrt((double)k) : 0;
}

double
lr_logit_delta(const struct db_delta *d, const struct tok *v, size_t n)
{
	double s = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		const struct delta_slot *p = delta_find(d, v[i].h);
		if (p && p->wset && delta_live(p))
			s += p->w;
	}
	return (d->biasset ? d->bias : 0) + s * lr_xscale(v, n);
}

void
lr_step(struct db_delta *d, const struct tok *v, size_t n, int y, double base, double eta, double l2)
{
	double z = base + lr_logit_delta(d, v, n), g = (double)y - 1 / (1 + exp(-z)), x = lr_xscale(v, n);
	size_t i;
	for (i = 0; i < n; i++) {
		struct delta_slot *p = delta_find(d, v[i].h);
		if (!p || !delta_live(p))
			continue;
		if (!p->wset)
			p->w = 0;
		p->wset = 1;
		p->w += (float)(eta * (g * x - l2 * p->w));   /* L2 where the token occurs: lazy, sparse */
	}
	d->bias = (d->biasset ? d->bias : 0) + eta * g * 0.1;
	d->biasset = 1;
}

void
lr_zero(struct db_delta *d)
{
	size_t i;
	for (i = 0; i < d->cap; i++)
		d->v[i].w = 0, d->v[i].wset = 1;
	d->bias = 0;
	d->biasset = 1;
}
