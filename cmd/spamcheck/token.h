/* Mail-aware tokenisation: a message becomes a set of unique 64-bit token
 * hashes (with their text, for the reasons shown in X-Spam-Status).
 * Header fields are separate token spaces ("S:" subject, "F:" from, ...),
 * bodies are MIME-decoded to UTF-8, HTML is reduced to text plus features,
 * URLs become host tokens, adjacent body words become pairs, and
 * structural rules become "R:" tokens whose weights are learned like any
 * other token's. Work is bounded: bytes, tokens, MIME depth and parts. */
#ifndef SPAMCHECK_TOKEN_H
#define SPAMCHECK_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include "str.h"

enum {
	TOK_MAX = 30000,          /* unique tokens per message */
	/* the last places are kept for rule ("R:") tokens, which come last:
	 * 30,000 junk words in the first parts took every place, and the
	 * message lost its rules (no Date, HTML only, links...) */
	TOK_RULE_ROOM = 64,
	TOK_TEXT_MAX = 48,        /* longest token kept as a word */
	TOK_PART_BYTES = 262144,  /* decoded bytes per MIME part */
	TOK_TEXT_BYTES = 524288,  /* decoded text per message */
	/* Adjacent body words also make pair tokens, for the regression
	 * only: the first TOK_PAIRS pairs of a message (phrases tell more
	 * than words, but every pair costs a lookup), kept in a database
	 * only once TOK_PAIR_MIN training messages hold them (most pairs
	 * are seen once, and would multiply its size). Cross-validated and
	 * on a temporal split (tests/bench/spamcheck-temporal). */
	TOK_PAIRS = 50,
	TOK_PAIR_MIN = 3
};

struct tok {
	uint64_t h;
	uint32_t off;             /* text in toks.text */
	uint16_t len;
	uint8_t pair;             /* a body word pair: evidence for the regression only */
};

struct toks {
	struct tok *v;
	size_t n, cap;
	uint32_t *slot;           /* open addressing: index + 1, 0 empty */
	size_t nslot;
	struct str text;
	int gtube;                /* the anti-UBE test string was seen */
	unsigned urls;            /* links seen, for the urls-N rule */
	const char *authserv;     /* if set, only Authentication-Results of this authserv-id count */
	size_t textbytes;         /* decoded text consumed so far */
	unsigned pairs;           /* body word pairs still to make (TOK_PAIRS per message) */
	int kind;                 /* the pair flag of tokens being added */
};

uint64_t tok_hash(const char *s, size_t len);
/* does s (n bytes) start with p (lower case), in any case? */
int starts_ci(const char *s, size_t n, const char *p);
void toks_init(struct toks *);
void toks_reset(struct toks *);
void toks_free(struct toks *);
/* add prefix+word (both bytes); 0 ok (or dropped at the bound), -1 ENOMEM */
int toks_add2(struct toks *, const char *prefix, const char *w, size_t len);

/* Tokenise one message (the bytes held; a bounded prefix is fine).
 * 0 ok, -1 ENOMEM. */
int tokenize(struct toks *, const char *msg, size_t len);

/* Is a header field evidence? Fields other filters add are not. */
int tok_header_ignored(const char *name, size_t len);

#endif
