/* The token database: one file, a 64-byte header, entries sorted by token
 * hash, then one logistic-regression weight (float) per entry in the same
 * order; memory-mapped read-only by each classifier process (opening it
 * costs one open and one mmap). Version 3 adds the calibration of the
 * combined score (score.h) to the header; version 2 files (none: the
 * uncalibrated defaults) and version 1 files (no weights either) still
 * open. A later version is refused as corrupt. Updates merge into a new file under a
 * lock file, fsync it and rename it into place: a running classifier
 * keeps its old mapping, a new one sees the whole new file. */
#ifndef SPAMCHECK_DB_H
#define SPAMCHECK_DB_H

#include <stddef.h>
#include <stdint.h>
#include "token.h"

struct db_entry {
	uint64_t h;
	uint32_t spam, ham;      /* messages of each class holding the token */
};

struct db {
	void *map;
	size_t maplen;
	const struct db_entry *e;
	const float *w;          /* NULL: a version 1 file, every weight 0 */
	uint64_t count, nspam, nham;
	double bias;             /* the regression's intercept */
	unsigned version;        /* 1, 2, 3; 0 for a missing file */
	unsigned mode, uid, gid; /* the file's permission bits, owner, group */
	double cal_a, cal_b;     /* the calibration (score.h); 0 0: none fitted */
};

/* 0 ok (a missing file is an empty database), -1 errno (EPROTO: corrupt). */
int db_open(struct db *, const char *path);
/* the same for the database a trainer replaces: a symbolic link at path
 * is refused (ELOOP), never read through, since the rename of the new
 * file would replace the link and leave its target as it was */
int db_open_replace(struct db *, const char *path);
void db_close(struct db *);
/* 1 found (counts stored), 0 not */
int db_lookup(const struct db *, uint64_t h, uint32_t *spam, uint32_t *ham);
/* the same with the token's regression weight (0 in a version 1 file) */
int db_lookup_w(const struct db *, uint64_t h, uint32_t *spam, uint32_t *ham, double *w);

/* Pending changes from training: per-token and per-class message deltas. */
struct db_delta {
	struct delta_slot {
		uint64_t h;
		int32_t spam, ham;
		float w;             /* the token's new weight, if wset */
		uint8_t used, wset, pair;   /* pair: a regression-only token (token.h) */
		uint8_t stored;      /* the database holds it already */
	} *v;
	size_t n, cap;
	int64_t nspam, nham;
	double bias;             /* the new intercept, if biasset */
	int biasset;
	double cal_a, cal_b;     /* the calibration, if calset */
	int calset;
};

void delta_init(struct db_delta *);
void delta_free(struct db_delta *);
/* count every token of t with dspam/dham (+1 learn, -1 unlearn); -1 ENOMEM */
int delta_add(struct db_delta *, const struct toks *, int dspam, int dham);
/* token h's slot, NULL if none */
struct delta_slot *delta_find(const struct db_delta *, uint64_t h);
/* does the slot count: a pair needs TOK_PAIR_MIN messages, or to be
 * stored already */
int delta_live(const struct delta_slot *);
/* Merge into the database at path atomically (counts added, weights
 * replaced where set), under its lock. 0 ok, -1 errno. */
int db_update(const char *path, struct db_delta *);
/* The lock file path.lock, held: an fd to close to release it; -1 errno.
 * A trainer whose update builds on what the database holds (-L's
 * weights) reads it and merges under one lock, with db_update_locked. */
int db_lock(const char *path);
int db_update_locked(const char *path, struct db_delta *);

#endif
