/* Logistic regression by SGD; features are token presence scaled by
 * 1/sqrt(tokens) so that long and short messages step alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lr.h"

int
lr_init(struct lr *m, unsigned bits)
{
	m->mask = ((size_t)1 << bits) - 1;
	m->bias = 0;
	m->w = calloc(m->mask + 1, sizeof *m->w);
	return m->w ? 0 : -1;
}

void
lr_free(struct lr *m)
{
	free(m->w);
	m->w = NULL;
}

void
lr_reset(struct lr *m)
{
	memset(m->w, 0, (m->mask + 1) * sizeof *m->w);
	m->bias = 0;
}

static double
xscale(size_t n)
{
	return n ? 1 / sqrt((double)n) : 0;
}

double
lr_logit(const struct lr *m, const struct tok *v, size_t n)
{
	double s = 0;
	size_t i;
	for (i = 0; i < n; i++)
		s += m->w[v[i].h & m->mask];
	return m->bias + s * xscale(n);
}

void
lr_step(struct lr *m, const struct tok *v, size_t n, int y, double eta, double l2)
{
	double z = lr_logit(m, v, n), p = 1 / (1 + exp(-z)), g = (double)y - p, x = xscale(n);
	size_t i;
	for (i = 0; i < n; i++) {
		float *w = &m->w[v[i].h & m->mask];
		*w += (float)(eta * (g * x - l2 * *w));
	}
	m->bias += eta * g * 0.1;
}
