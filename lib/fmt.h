/* Number formatting without stdio, shared by str and buf. */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>

enum { FMT_ULONG = 20 };   /* digits of 2^64-1 */

/* Writes the decimal digits of u at out (no NUL), returns how many. */
size_t fmt_ulong(char out[FMT_ULONG], unsigned long long u);

#endif
