/* Whole-string number scanners: the entire input must be decimal digits,
 * the value must not exceed max. Return 0 and store the value, or -1
 * (empty, a non-digit, a sign, overflow, above max) and store nothing. */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>

int scan_ulong(const char *s, size_t len, unsigned long long max, unsigned long long *out);
int scan_ulongz(const char *s, unsigned long long max, unsigned long long *out);
int scan_uint(const char *s, unsigned int max, unsigned int *out);       /* NUL-terminated */

#endif
