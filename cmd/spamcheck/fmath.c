/* spamcheck runs once per message, and libm would be one more shared
 * library to map and relocate in every run (about a tenth of its time).
 * The scorer needs only log and exp on ordinary doubles; these agree with
 * libm to about 1e-15 relative over that range. */
#include <stdint.h>
#include <string.h>
#include "fmath.h"

static const double ln2_hi = 6.93147180369123816490e-01;   /* ln 2 split so that k * ln2_hi is exact */
static const double ln2_lo = 1.90821492927058770002e-10;

double
fm_log(double x)
{
	uint64_t b;
	double m, z, z2, s = 0;
	int e, k;
	if (!(x > 0))
		return -1.0e308 * 10;   /* -inf: the callers keep x > 0 */
	memcpy(&b, &x, sizeof b);
	e = (int)((b >> 52) & 0x7ff);
	if (e == 0x7ff)
		return x;
	if (e == 0) {                /* subnormal: scale into the normal range */
		x *= 18014398509481984.0;   /* 2^54 */
		memcpy(&b, &x, sizeof b);
		e = (int)((b >> 52) & 0x7ff) - 54;
	}
	e -= 1023;
	b = (b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&m, &b, sizeof m);   /* x = m * 2^e, 1 <= m < 2 */
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	/* log m = 2 atanh z, |z| <= 0.172: the series to z^21 is exact to 1e-18 */
	z = (m - 1) / (m + 1);
	z2 = z * z;
	for (k = 21; k >= 3; k -= 2)
		s = z2 * (1.0 / k + s);
	return e * ln2_hi + (e * ln2_lo + 2 * z * (1 + s));
}

double
fm_log1p(double x)
{
	volatile double u = 1 + x;   /* Goldberg: the rounding of 1 + x cancels out */
	if (u == 1)
		return x;
	return fm_log(u) * x / (u - 1);
}

double
fm_exp(double x)
{
	double r, s = 1, t = 1, scale;
	uint64_t b;
	int k, i;
	if (x != x)
		return x;
	if (x > 709.7)
		return 1.0e308 * 10;   /* +inf */
	if (x < -745.2)
		return 0;
	/* x = k ln 2 + r, |r| <= ln2 / 2: Taylor to r^16 is exact to 1e-17 */
	k = (int)(x / (ln2_hi + ln2_lo) + (x >= 0 ? 0.5 : -0.5));
	r = (x - k * ln2_hi) - k * ln2_lo;
	for (i = 1; i <= 16; i++) {
		t *= r / i;
		s += t;
	}
	if (k < -1021) {             /* the result is subnormal: scale in two steps */
		s *= 5.551115123125783e-17;   /* 2^-54 */
		k += 54;
	}
	b = (uint64_t)(k + 1023) << 52;
	memcpy(&scale, &b, sizeof scale);
	return s * scale;
}
