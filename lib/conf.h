/* The control directory: PIPEMAIL_CONF, default /etc/pipemail.
 *
 * Plain text files an admin edits, compiled to cdb for every lookup:
 *   me          this host's name (first line)
 *   domains     local domains, one per line              -> domains.cdb
 *   users       ADDRESS:HASH:UID:GID:MAILDIR:QUOTA       -> users.cdb
 *               QUOTA in bytes, 0 = none; UID and GID not 0
 *   aliases     ADDRESS: target, target, ...             -> aliases.cdb
 *               (an ADDRESS of "@domain" is a catch-all)
 *   routes      DOMAIN:[HOST]:PORT  ('*' is the default)  (smtp-send)
 * '#' starts a comment line. Addresses and domains are compared in lower
 * case. Compilation writes NAME.cdb.tmp and renames it over NAME.cdb, so a
 * reader never sees a half-written database. Modes: users.cdb 0640 with
 * the control directory's group (it holds password hashes), domains.cdb
 * and aliases.cdb 0644; compiling users takes group and other access
 * away from its text file. Callers that compile hold conf_lock().
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
/* A directory named by the environment variable var, else builtin; a
 * set-id program run by another user than root gets builtin. */
const char *conf_env_dir(const char *var, const char *builtin);
int conf_path(struct str *out, const char *name);          /* dir/name */
/* First line of a control file, trimmed. 1 found, 0 absent (or empty), -1
 * error (EINVAL: longer than CONF_LINE_MAX, or a control byte inside). */
int conf_line(const char *name, struct str *out);
/* Host name: conf "me", else gethostname(). 0 ok, -1 error. */
int conf_me(struct str *out);

/* Unmap the databases lookups keep mapped (users.cdb holds password
 * hashes): before a process gives up its privileges for good. */
void conf_close(void);

int conf_domain_local(const char *domain);

struct conf_user {
	struct str addr;
	struct str hash;
	uid_t uid;
	gid_t gid;
	struct str maildir;
	unsigned long long quota;
};
#define CONF_USER_INIT { STR_INIT, STR_INIT, 0, 0, STR_INIT, 0 }
void conf_user_free(struct conf_user *);
int conf_user_get(const char *addr, struct conf_user *);
/* A password hash from users.cdb, the first of its first CONF_DECOY_SCAN
 * records that is not locked ('*' or '!') nor refused by the caller's
 * test (passwd_locked: the DES family): login_check verifies an unknown
 * user's password against it, so that a refusal costs what a known
 * user's does with the scheme and cost the database uses.
 * 1 found, 0 none, -1 errno. */
enum { CONF_DECOY_SCAN = 64 };
int conf_user_decoy(struct str *hash, int (*refused)(const char *));

/* targets: the comma-separated target list, each target whitespace
 * trimmed, joined by "," */
int conf_alias_get(const char *addr, struct str *targets);

/* Is addr a local recipient? Checks users, aliases, then user+detail
 * (detail stripped) and the domain catch-all. The domain must be local.
 * 1 yes, 0 no, -1 temporary error. canonical (optional) receives the
 * address as found (user or alias key, lower case). */
int conf_rcpt_local(const char *addr, struct str *canonical);

/* Compile NAME (domains, users, aliases) to NAME.cdb atomically.
 * 0 ok, -1 error with errno; a syntax error sets errno EINVAL and, when
 * lineno is not NULL, the offending line number. CONF_UNSYNCED (< 0,
 * errno set): the new NAME.cdb is in place and whole, servers read it,
 * but the control directory could not be synced after the rename, so
 * a crash may bring the old one back. CONF_TEXT_AHEAD (< 0, errno set):
 * the edited text went into place but the directory could not be synced
 * after it, so the database was left as it was: the text holds the
 * change, the servers do not see it until a compile. */
enum { CONF_UNSYNCED = -2, CONF_TEXT_AHEAD = -3 };
int conf_compile(const char *name, unsigned long *lineno);

/* --- extensions (helper B), backwards compatible --- */

/* Line parsers for the text files, shared by conf_compile, mailuser and the
 * fuzz target. One line without its newline; surrounding blanks and a CR
 * are ignored. 1 an entry (addresses and domains lower-cased; alias targets
 * kept as written), 0 a blank or '#' comment line, -1 a syntax error
 * (errno EINVAL). */
int conf_parse_domain(const char *line, size_t len, struct str *domain);
int conf_parse_user(const char *line, size_t len, struct conf_user *);
int conf_parse_alias(const char *line, size_t len, struct str *addr, struct str *targets);

/* What the files accept. A domain: letters, digits, '-', dot-separated
 * labels of 1..63, at most 253 bytes. An address: LOCAL@DOMAIN, LOCAL
 * 1..64 bytes of letters, digits and .!#%&*+-=?^_{}~ (no leading, trailing
 * or double dot, no leading '#'), at most CONF_ADDR_MAX bytes; catchall
 * also allows "@DOMAIN". A Maildir: an absolute path of at most
 * CONF_PATH_MAX printable bytes, no ':', no blanks, no "." or ".."
 * component. 1 valid, 0 not. */
enum { CONF_LOCAL_MAX = 64, CONF_DOMAIN_MAX = 253, CONF_PATH_MAX = 1024,
       CONF_HASH_MAX = 512 };
int conf_valid_domain(const char *d, size_t len);
int conf_valid_addr(const char *a, size_t len, int catchall);
int conf_valid_maildir(const char *p, size_t len);

/* conf_compile reading the text from the control file srcname instead of
 * name (mailuser compiles "users.tmp"). Once the database is built,
 * srcname is renamed to name, then the database into place, each rename
 * synced: the text is never behind what the servers see. */
int conf_compile_src(const char *name, const char *srcname, unsigned long *lineno);

/* conf_compile in two steps, so that several tables change together or
 * not at all: conf_stage builds NAME.cdb.tmp (synced, not in place; 0, or
 * -1 as conf_compile), conf_install renames it into place (0, -1, or
 * CONF_UNSYNCED as conf_compile), conf_unstage removes a staged one. */
int conf_stage(const char *name, unsigned long *lineno);
int conf_install(const char *name);
void conf_unstage(const char *name);

/* The users-file line for u, without a newline. 0 ok, -1 errno. */
int conf_user_line(const struct conf_user *u, struct str *out);

/* Writers (mailuser) serialise on an flock(2) of the control directory's
 * "lock" file. Waits at most timeout_ms; the fd (keep it open to hold the
 * lock) or -1 (ETIMEDOUT when another writer holds it). */
int conf_lock(int timeout_ms);
/* fsync the control directory itself (after a rename into it). 0 / -1 errno. */
int conf_sync_dir(void);

#endif
