/* Text that reaches a person's terminal (logs, listings): which bytes may
 * go as they are. Anyone can put bytes into an address, a HELO or a reply
 * text; C1 controls (CSI is 0x9b, raw or as UTF-8), bytes that are no
 * UTF-8 and bidi overrides (which make what follows read backwards) must
 * not drive the terminal, and are shown escaped instead. */
#ifndef TERMSAFE_H
#define TERMSAFE_H

#include <stddef.h>

/* The length of the character at p (n bytes left) that may be shown as
 * it is: 1 for printable ASCII, 2 to 4 for a printable UTF-8 character;
 * 0 for any other byte, which the caller escapes. */
size_t termsafe_char(const unsigned char *p, size_t n);

#endif
