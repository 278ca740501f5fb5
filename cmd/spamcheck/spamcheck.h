/* Shared between the spamcheck files: options and the per-message steps. */
#ifndef SPAMCHECK_H
#define SPAMCHECK_H

#include <stddef.h>
#include "db.h"
#include "score.h"
#include "str.h"
#include "token.h"

enum { MSG_PREFIX_DEFAULT = 1 << 20 };   /* bytes classified; the rest streams through */

struct opts {
	const char *dbpath, *userdb;
	size_t prefix;           /* bytes of a message read for classification */
	struct model m;
	int exitcode;            /* -e: the exit code carries the verdict */
	int verbose;
};

/* classifier state: databases open, scratch token set */
struct classifier {
	struct db global, user;
	int has_user;
	struct toks t;
};

/* 0 ok, -1 errno */
int classifier_open(struct classifier *, const struct opts *);
void classifier_close(struct classifier *);
/* tokenise and score msg; -1 ENOMEM */
int classify(struct classifier *, const struct opts *, const char *msg, size_t len, struct result *);
/* read up to max bytes from fd; *eof set when the input ended. 0 / -1 errno */
int read_prefix(int fd, struct str *, size_t max, int *eof);

const char *verdict_name(enum verdict);

/* filter.c */
int run_filter(const struct opts *);                         /* exit code */
int run_pipe(const struct opts *, char **argv, int queue);   /* exit code */

/* train.c */
int run_train(const struct opts *, int dspam, int dham, char **paths);
int run_list(const struct opts *, char **paths);
int run_tokens(const struct opts *);
int run_cv(const struct opts *, unsigned k, const char *spam, const char *ham);
int run_split(const struct opts *, char **dirs);   /* trainspam trainham testspam testham */
int run_learn(const struct opts *, const char *spam, const char *ham);

#endif
