/* log and exp for the scorer without libm (see fmath.c for why). */
#ifndef SPAMCHECK_FMATH_H
#define SPAMCHECK_FMATH_H

double fm_log(double);     /* natural logarithm; x <= 0 gives -HUGE_VAL */
double fm_log1p(double);   /* log(1 + x) for x >= 0 */
double fm_exp(double);

#endif
