/* The control directory: PIPEMAIL_CONF, default /etc/pipemail.
 *
 * Plain text files an admin edits, compiled to cdb for every lookup:
 *   me          this host's name (first line)
 *   domains     local domains, one per line              -> domains.cdb
 *   users       ADDRESS:HASH:UID:GID:MAILDIR:QUOTA       -> users.cdb
 *               QUOTA in bytes, 0 = none
 *   aliases     ADDRESS: target, target, ...             -> aliases.cdb
 *               (an ADDRESS of "@domain" is a catch-all)
 *   routes      DOMAIN:[HOST]:PORT  ('*' is the default)  (smtp-send)
 * '#' starts a comment line. Addresses and domains are compared in lower
 * case. Compilation writes NAME.cdb.tmp and renames it over NAME.cdb, so a
 * reader never sees a half-written database.
 *
 * Lookup functions return 1 found, 0 not found, -1 temporary error
 * (missing or corrupt cdb, I/O) with errno set; "corrupt" is never
 * "not found". */
#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include "str.h"

enum { CONF_ADDR_MAX = 320, CONF_LINE_MAX = 4096 };

const char *conf_dir(void);
int conf_path(struct str *out, const char *name);          /* dir/name */
/* First line of a control file, trimmed. 1 found, 0 absent (or empty), -1 error. */
int conf_line(const char *name, struct str *out);
/* Host name: conf "me", else gethostname(). 0 ok, -1 error. */
int conf_me(struct str *out);

int conf_domain_local(const char *domain);

struct conf_user {
	struct str addr;
	struct str hash;
	uid_t uid;
	gid_t gid;
	struct str maildir;
	unsigned long long quota;
};
void conf_user_free(struct conf_user *);
int conf_user_get(const char *addr, struct conf_user *);

/* targets: the raw comma-separated target list, whitespace trimmed */
int conf_alias_get(const char *addr, struct str *targets);

/* Is addr a local recipient? Checks users, aliases, then user+detail
 * (detail stripped) and the domain catch-all. The domain must be local.
 * 1 yes, 0 no, -1 temporary error. canonical (optional) receives the
 * address as found (user or alias key, lower case). */
int conf_rcpt_local(const char *addr, struct str *canonical);

/* Compile NAME (domains, users, aliases) to NAME.cdb atomically.
 * 0 ok, -1 error with errno; a syntax error sets errno EINVAL and, when
 * lineno is not NULL, the offending line number. */
int conf_compile(const char *name, unsigned long *lineno);

#endif
