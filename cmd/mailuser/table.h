/* mailuser's view of one control file (domains, users, aliases): the whole
 * text in memory, scanned line by line with conf's parsers, written back
 * atomically and compiled before it replaces the old text. */
#ifndef MAILUSER_TABLE_H
#define MAILUSER_TABLE_H

#include <stddef.h>
#include "str.h"

/* The text files may grow large, but not without bound. */
enum { TABLE_MAX = 256 * 1024 * 1024 };

struct table {
	const char *name;     /* "domains", "users", "aliases" */
	struct str text;
	unsigned long badline; /* set by table_each on a syntax error */
};

/* called per entry: key lower-cased, line/len the raw line without '\n',
 * off its offset in text. Return 0 to go on, 1 to stop, -1 on error. */
typedef int table_fn(void *ctx, const struct str *key, const char *line, size_t len, size_t off);

int table_load(struct table *, const char *name);    /* missing file = empty; 0, -1 errno */
/* 1 stopped by fn, 0 all seen, -1 error (EINVAL: syntax, t->badline) */
int table_each(struct table *, table_fn *fn, void *ctx);
/* offset and length (with its '\n') of key's line: 1 found, 0 not, -1 error
 * (EINVAL with t->badline: a syntax error, or key on a second line) */
int table_find(struct table *, const char *key, size_t *off, size_t *len);
/* replace [off, off+len) with line (plus '\n' unless line is NULL) */
int table_splice(struct table *, size_t off, size_t len, const char *line);
int table_append(struct table *, const char *line);
/* Write NAME.tmp, compile it to NAME.cdb.tmp, rename it over NAME and
 * then the database into place.
 * -1 errno (EINVAL: syntax error at *lineno, nothing changed);
 * CONF_UNSYNCED errno: all in place, the directory not synced. */
int table_commit(struct table *, unsigned long *lineno);
void table_free(struct table *);

#endif
