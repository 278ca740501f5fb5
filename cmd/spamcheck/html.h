/* HTML reduced to its visible text plus features: link and image
 * targets as URL tokens, image count, hidden-text tricks, link text
 * naming another site than the link's target. */
#ifndef SPAMCHECK_HTML_H
#define SPAMCHECK_HTML_H

#include <stddef.h>
#include "str.h"
#include "token.h"

struct html_info {
	unsigned imgs, links, hidden;
	unsigned mismatch;       /* links whose text names another domain than their target */
};

int tok_url(struct toks *, const char *url, size_t len);
/* Characters that only join or break words invisibly (a soft hyphen,
 * zero-width spaces and joiners, word joiner, BOM): "vi&shy;agra" is the
 * word "viagra", written as an entity or as the character itself. */
int html_invisible(unsigned long cp);
/* Appends the visible text of in to text; adds feature tokens to t.
 * 0 ok, -1 ENOMEM. */
int html_reduce(struct toks *t, struct str *text, const char *in, size_t len, struct html_info *);

#endif
