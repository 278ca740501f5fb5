/* The control directory: text files an admin edits, compiled to cdb;
 * every lookup reads the cdb (kept mapped between lookups, but checked by
 * stat(2) each time, so a rename by mailuser is seen at once). A missing
 * or corrupt database is a temporary error, never "not found". */
#include <cdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "scan.h"

/* users.cdb holds password hashes: owner and the control directory's group
 * only (servers that drop privileges after the lookup run in that group). */
enum { MODE_SECRET = 0640, MODE_PUBLIC = 0644 };

/* the built-in control directory: make CONFDIR=... */
#ifndef PIPEMAIL_CONFDIR
#define PIPEMAIL_CONFDIR "/etc/pipemail"
#endif

/* secure_getenv: a set-id program (queue-add setgid, INSTALL) keeps the
 * built-in directory, whatever the user who runs it sets; not when root
 * runs it (queue-run queueing a bounce), who may write anywhere anyway. */
const char *
conf_env_dir(const char *var, const char *builtin)
{
	const char *d = getuid() == 0 ? getenv(var) : secure_getenv(var);
	return d && *d ? d : builtin;
}

const char *
conf_dir(void)
{
	return conf_env_dir("PIPEMAIL_CONF", PIPEMAIL_CONFDIR);
}

int
conf_path(struct str *out, const char *name)
{
	if (str_copys(out, conf_dir()) < 0 || str_catc(out, '/') < 0 ||
	    str_cats(out, name) < 0 || str_0(out) < 0)
		return -1;
	return 0;
}

static int
isblank_(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* trim blanks and a CR at both ends */
static void
trim(const char **p, size_t *len)
{
	while (*len && isblank_(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len && isblank_((*p)[*len - 1]))
		(*len)--;
}

int
conf_line(const char *name, struct str *out)
{
	struct str path = STR_INIT;
	char space[512];
	struct buf b;
	int fd, r;

	if (conf_path(&path, name) < 0)
		return -1;
	fd = open(path.s, O_RDONLY | O_CLOEXEC);
	str_free(&path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	buf_init(&b, fd, space, sizeof space);
	str_trunc(out, 0);
	r = buf_getline(&b, out, CONF_LINE_MAX, '\n');
	close(fd);
	if (r == BUF_EOF)
		return 0;
	if (r == BUF_ERR)
		return -1;
	if (r == BUF_TOOLONG) {
		errno = EINVAL;
		return -1;
	}
	{
		const char *p = out->s;
		size_t n = out->len, i;
		trim(&p, &n);
		/* a host name, a number, an address: never a control byte, which
		 * would cut the value short (NUL) or reach an SMTP reply or a
		 * header as it is (CR) */
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] < ' ' || p[i] == 0x7f) {
				errno = EINVAL;
				return -1;
			}
		memmove(out->s, p, n);
		str_trunc(out, n);
		if (str_0(out) < 0)
			return -1;
		return n ? 1 : 0;
	}
}

int
conf_me(struct str *out)
{
	char host[256];
	int r = conf_line("me", out);
	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	if (gethostname(host, sizeof host) < 0)
		return -1;
	host[sizeof host - 1] = 0;
	if (str_copys(out, host) < 0 || str_0(out) < 0)
		return -1;
	return 0;
}

/* --- validity --- */

static int
isalnum_(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int
conf_valid_domain(const char *d, size_t len)
{
	size_t i, label = 0;
	if (len == 0 || len > CONF_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum_(c) && c != '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int
valid_local(const char *s, size_t len)
{
	size_t i;
	if (len == 0 || len > CONF_LOCAL_MAX || s[0] == '.' || s[0] == '#' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' && i && s[i - 1] == '.')
			return 0;
		if (!isalnum_(c) && !strchr(".!#%&*+-=?^_{}~", c))
			return 0;
	}
	return 1;
}

int
conf_valid_addr(const char *a, size_t len, int catchall)
{
	const char *at;
	size_t l;
	if (len == 0 || len > CONF_ADDR_MAX)
		return 0;
	at = memchr(a, '@', len);
	if (!at)
		return 0;
	l = (size_t)(at - a);
	if (l == 0 && !catchall)
		return 0;
	if (l && !valid_local(a, l))
		return 0;
	return conf_valid_domain(at + 1, len - l - 1);
}

int
conf_valid_maildir(const char *p, size_t len)
{
	size_t i, start;
	if (len == 0 || len > CONF_PATH_MAX || p[0] != '/')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c >= 0x7f || c == ':')
			return 0;
	}
	/* no "." or ".." component: the path is used as given */
	for (start = 1; start <= len; start = i + 1) {
		for (i = start; i < len && p[i] != '/'; i++)
			;
		if ((i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return 0;
	}
	return 1;
}

static int
valid_hash(const char *h, size_t len)
{
	size_t i;
	if (len == 0 || len > CONF_HASH_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c <= ' ' || c >= 0x7f || c == ':')
			return 0;
	}
	return 1;
}

/* --- line parsers --- */

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/* 0 blank or comment, 1 content left in p, len */
static int
content(const char **p, size_t *len)
{
	trim(p, len);
	if (*len == 0 || **p == '#')
		return 0;
	return 1;
}

static int
copy_lower(struct str *out, const char *s, size_t len)
{
	if (str_copyb(out, s, len) < 0 || str_0(out) < 0)
		return -1;
	str_lower(out);
	return 0;
}

int
conf_parse_domain(const char *line, size_t len, struct str *domain)
{
	if (!content(&line, &len))
		return 0;
	if (!conf_valid_domain(line, len))
		return einval();
	return copy_lower(domain, line, len) < 0 ? -1 : 1;
}

/* the fields after the address: HASH:UID:GID:MAILDIR:QUOTA */
static int
parse_user_fields(const char *s, size_t len, struct conf_user *u)
{
	const char *f[5];
	size_t fl[5];
	size_t i, n = 0, start = 0;
	unsigned long long v;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ':') {
			if (n == 5)
				return einval();
			f[n] = s + start;
			fl[n++] = i - start;
			start = i + 1;
		}
	}
	if (n != 5)
		return einval();
	if (!valid_hash(f[0], fl[0]))
		return einval();
	/* a mailbox never runs as root (login_drop refuses it): a 0 here
	 * would defer every message to the user, so it is refused here */
	if (scan_ulong(f[1], fl[1], (uid_t)-2, &v) < 0 || v == 0)
		return einval();
	u->uid = (uid_t)v;
	if (scan_ulong(f[2], fl[2], (gid_t)-2, &v) < 0 || v == 0)
		return einval();
	u->gid = (gid_t)v;
	if (!conf_valid_maildir(f[3], fl[3]))
		return einval();
	if (scan_ulong(f[4], fl[4], ~0ULL, &u->quota) < 0)
		return einval();
	if (str_copyb(&u->hash, f[0], fl[0]) < 0 || str_0(&u->hash) < 0 ||
	    str_copyb(&u->maildir, f[3], fl[3]) < 0 || str_0(&u->maildir) < 0)
		return -1;
	return 1;
}

int
conf_parse_user(const char *line, size_t len, struct conf_user *u)
{
	const char *colon;
	size_t al;
	if (!content(&line, &len))
		return 0;
	colon = memchr(line, ':', len);
	if (!colon)
		return einval();
	al = (size_t)(colon - line);
	if (!conf_valid_addr(line, al, 0))
		return einval();
	if (parse_user_fields(colon + 1, len - al - 1, u) < 0)
		return -1;
	return copy_lower(&u->addr, line, al) < 0 ? -1 : 1;
}

int
conf_parse_alias(const char *line, size_t len, struct str *addr, struct str *targets)
{
	const char *colon, *p;
	size_t al, rest, n = 0;

	if (!content(&line, &len))
		return 0;
	colon = memchr(line, ':', len);
	if (!colon)
		return einval();
	al = (size_t)(colon - line);
	{
		const char *a = line;
		trim(&a, &al);
		if (!conf_valid_addr(a, al, 1))
			return einval();
		if (copy_lower(addr, a, al) < 0)
			return -1;
	}
	str_trunc(targets, 0);
	p = colon + 1;
	rest = len - (size_t)(p - line);
	for (;;) {
		const char *comma = memchr(p, ',', rest);
		size_t tl = comma ? (size_t)(comma - p) : rest;
		const char *t = p;
		trim(&t, &tl);
		if (!conf_valid_addr(t, tl, 0))
			return einval();
		if ((n++ && str_catc(targets, ',') < 0) || str_catb(targets, t, tl) < 0)
			return -1;
		if (!comma)
			break;
		p = comma + 1;
		rest = len - (size_t)(p - line);
	}
	return str_0(targets) < 0 ? -1 : 1;
}

int
conf_user_line(const struct conf_user *u, struct str *out)
{
	str_trunc(out, 0);
	if (str_catb(out, u->addr.s, u->addr.len) < 0 || str_catc(out, ':') < 0 ||
	    str_catb(out, u->hash.s, u->hash.len) < 0 || str_catc(out, ':') < 0 ||
	    str_catu(out, u->uid) < 0 || str_catc(out, ':') < 0 ||
	    str_catu(out, u->gid) < 0 || str_catc(out, ':') < 0 ||
	    str_catb(out, u->maildir.s, u->maildir.len) < 0 || str_catc(out, ':') < 0 ||
	    str_catu(out, u->quota) < 0 || str_0(out) < 0)
		return -1;
	return 0;
}

void
conf_user_free(struct conf_user *u)
{
	str_free(&u->addr);
	if (u->hash.s)
		explicit_bzero(u->hash.s, u->hash.cap);
	str_free(&u->hash);
	str_free(&u->maildir);
}

/* --- lookups --- */

/* The tables a process has open. A busy server looks up several keys
 * per message, and open, fstat, mmap, munmap and close cost more than the
 * lookup itself; one stat(2) of the path tells whether the mapped file is
 * still the one there (conf_compile renames a new file into place: a new
 * inode), so a change is seen as soon as before. */
static struct table {
	const char *name;
	struct str path;
	int mapped;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	struct cdb c;
} tables[] = { { .name = "domains" }, { .name = "users" }, { .name = "aliases" } };

static int
same_file(const struct table *t, const struct stat *st)
{
	return t->dev == st->st_dev && t->ino == st->st_ino && t->size == st->st_size &&
	    t->mtime.tv_sec == st->st_mtim.tv_sec && t->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	    t->ctime.tv_sec == st->st_ctim.tv_sec && t->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void
table_unmap(struct table *t)
{
	if (t->mapped)
		cdb_free(&t->c);
	t->mapped = 0;
}

void
conf_close(void)
{
	size_t i;
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		table_unmap(&tables[i]);
		str_free(&tables[i].path);
	}
}

/* The table's database, mapped and current: 1; 0 missing (and its text
 * file too, when emptyok: an empty table); -1 errno. */
static int
table_get(const char *name, int emptyok, struct table **out)
{
	struct table *t = NULL;
	struct str path = STR_INIT;
	struct stat st;
	size_t i;
	int fd, e, r = -1;

	for (i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (strcmp(tables[i].name, name) == 0)
			t = &tables[i];
	if (!t || conf_path(&path, name) < 0 || str_cats(&path, ".cdb") < 0 || str_0(&path) < 0)
		goto out;
	/* the same control directory (tests change it between calls) and the same file */
	if (t->mapped && t->path.len == path.len && memcmp(t->path.s, path.s, path.len) == 0 &&
	    stat(path.s, &st) == 0 && same_file(t, &st)) {
		*out = t;
		r = 1;
		goto out;
	}
	table_unmap(t);
	fd = open(path.s, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && emptyok) {
			str_trunc(&path, path.len - 4);
			str_0(&path);
			if (stat(path.s, &st) < 0 && errno == ENOENT) {
				r = 0;
				goto out;
			}
		}
		errno = e;
		goto out;
	}
	/* tinycdb reads through its mapping only: the descriptor can go */
	if (fstat(fd, &st) < 0 || cdb_init(&t->c, fd) < 0) {
		e = errno ? errno : EPROTO;
		close(fd);
		errno = e;
		goto out;
	}
	close(fd);
	t->mapped = 1;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->size = st.st_size;
	t->mtime = st.st_mtim;
	t->ctime = st.st_ctim;
	if (str_copyb(&t->path, path.s, path.len) < 0 || str_0(&t->path) < 0) {
		table_unmap(t);
		goto out;
	}
	*out = t;
	r = 1;
out:
	e = errno;
	str_free(&path);
	errno = e;
	return r;
}

/* 1 found (value in val), 0 not found, -1 error. emptyok: a missing cdb
 * whose text file is missing too is an empty table. */
static int
lookup(const char *name, const char *key, size_t klen, struct str *val, int emptyok)
{
	struct table *t;
	const void *data;
	int r, e;

	if (klen == 0 || klen > CONF_LINE_MAX)
		return 0;
	r = table_get(name, emptyok, &t);
	if (r <= 0)
		return r;
	errno = 0;
	r = cdb_find(&t->c, key, (unsigned)klen);
	if (r > 0) {
		data = cdb_get(&t->c, cdb_datalen(&t->c), cdb_datapos(&t->c));
		if (!data)
			r = -1;
		else if (str_copyb(val, data, cdb_datalen(&t->c)) < 0 || str_0(val) < 0)
			r = -1;
		else
			r = 1;
	}
	if (r < 0) {   /* a corrupt file, or no memory: mapped afresh next time */
		e = errno ? errno : EPROTO;
		table_unmap(t);
		errno = e;
	}
	return r;
}

/* key: lower-cased copy; 0 if too long */
static int
lowkey(struct str *k, const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONF_ADDR_MAX)
		return 0;
	if (copy_lower(k, s, n) < 0)
		return -1;
	return 1;
}

int
conf_domain_local(const char *domain)
{
	struct str k = STR_INIT, v = STR_INIT;
	int r = lowkey(&k, domain);
	if (r > 0)
		r = lookup("domains", k.s, k.len, &v, 0);
	str_free(&k);
	str_free(&v);
	return r;
}

int
conf_user_get(const char *addr, struct conf_user *u)
{
	struct str k = STR_INIT, v = STR_INIT;
	int r = lowkey(&k, addr);
	if (r > 0)
		r = lookup("users", k.s, k.len, &v, 1);
	if (r > 0) {
		/* a value the compiler would not have written is corruption */
		if (parse_user_fields(v.s, v.len, u) < 0) {
			errno = EPROTO;
			r = -1;
		} else if (str_copyb(&u->addr, k.s, k.len) < 0 || str_0(&u->addr) < 0) {
			r = -1;
		}
	}
	if (v.s)
		explicit_bzero(v.s, v.cap);
	str_free(&k);
	str_free(&v);
	return r;
}

int
conf_user_decoy(struct str *hash, int (*refused)(const char *))
{
	struct table *t;
	unsigned pos, i;
	int r = table_get("users", 1, &t);

	if (r <= 0)
		return r;
	cdb_seqinit(&pos, &t->c);
	/* bounded: this runs for every unknown user's login */
	for (i = 0; i < CONF_DECOY_SCAN; i++) {
		const char *v;
		size_t n;
		errno = 0;
		r = cdb_seqnext(&pos, &t->c);
		if (r <= 0)
			break;
		v = cdb_get(&t->c, cdb_datalen(&t->c), cdb_datapos(&t->c));
		if (!v) {
			r = -1;
			break;
		}
		for (n = 0; n < cdb_datalen(&t->c) && v[n] != ':'; n++)
			;
		if (n == 0 || v[0] == '*' || v[0] == '!')
			continue;   /* locked: nothing to learn the cost from */
		if (str_copyb(hash, v, n) < 0 || str_0(hash) < 0)
			return -1;
		if (!refused(hash->s))
			return 1;
	}
	if (r < 0) {
		int e = errno ? errno : EPROTO;
		table_unmap(t);
		errno = e;
		return -1;
	}
	return 0;
}

int
conf_alias_get(const char *addr, struct str *targets)
{
	struct str k = STR_INIT;
	int r = lowkey(&k, addr);
	if (r > 0)
		r = lookup("aliases", k.s, k.len, targets, 1);
	str_free(&k);
	return r;
}

/* user or alias under key: 1, 0, -1 */
static int
known(const char *key, size_t klen)
{
	struct str v = STR_INIT;
	int r = lookup("users", key, klen, &v, 1);
	if (r == 0)
		r = lookup("aliases", key, klen, &v, 1);
	if (v.s)
		explicit_bzero(v.s, v.cap);
	str_free(&v);
	return r;
}

static int
found(struct str *canonical, const char *key, size_t klen)
{
	if (canonical && (str_copyb(canonical, key, klen) < 0 || str_0(canonical) < 0))
		return -1;
	return 1;
}

int
conf_rcpt_local(const char *addr, struct str *canonical)
{
	struct str k = STR_INIT, alt = STR_INIT;
	const char *at, *plus;
	size_t local;
	int r = lowkey(&k, addr);

	if (r <= 0)
		goto out;
	at = strrchr(k.s, '@');
	r = 0;
	if (!at || at == k.s || !at[1])
		goto out;
	local = (size_t)(at - k.s);
	r = conf_domain_local(at + 1);
	if (r <= 0)
		goto out;
	r = known(k.s, k.len);
	if (r) {
		if (r > 0)
			r = found(canonical, k.s, k.len);
		goto out;
	}
	plus = memchr(k.s, '+', local);
	if (plus && plus > k.s) {
		if (str_copyb(&alt, k.s, (size_t)(plus - k.s)) < 0 || str_cats(&alt, at) < 0) {
			r = -1;
			goto out;
		}
		r = known(alt.s, alt.len);
		if (r) {
			if (r > 0)
				r = found(canonical, alt.s, alt.len);
			goto out;
		}
	}
	r = lookup("aliases", at, strlen(at), &alt, 1);
	if (r > 0)
		r = found(canonical, at, strlen(at));
out:
	str_free(&k);
	str_free(&alt);
	return r;
}

/* --- compilation --- */

int
conf_sync_dir(void)
{
	int fd = open(conf_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* parse one line of NAME into key/value: 1 entry, 0 none, -1 error */
static int
parse_any(const char *name, const char *line, size_t len, struct str *key, struct str *val)
{
	int r;
	if (!strcmp(name, "domains")) {
		str_trunc(val, 0);
		return conf_parse_domain(line, len, key);
	}
	if (!strcmp(name, "aliases"))
		return conf_parse_alias(line, len, key, val);
	if (!strcmp(name, "users")) {
		struct conf_user u = CONF_USER_INIT;
		r = conf_parse_user(line, len, &u);
		if (r > 0) {
			if (conf_user_line(&u, val) < 0 || str_copyb(key, u.addr.s, u.addr.len) < 0)
				r = -1;
			else {
				/* the value is the line after "ADDRESS:" */
				memmove(val->s, val->s + u.addr.len + 1, val->len - u.addr.len - 1);
				str_trunc(val, val->len - u.addr.len - 1);
			}
		}
		conf_user_free(&u);
		return r;
	}
	errno = EINVAL;
	return -1;
}

static int compile(const char *name, const char *srcname, unsigned long *lineno, int install);

int
conf_compile(const char *name, unsigned long *lineno)
{
	return compile(name, name, lineno, 1);
}

int
conf_compile_src(const char *name, const char *srcname, unsigned long *lineno)
{
	return compile(name, srcname, lineno, 1);
}

int
conf_stage(const char *name, unsigned long *lineno)
{
	return compile(name, name, lineno, 0);
}

int
conf_install(const char *name)
{
	struct str tmp = STR_INIT, dst = STR_INIT;
	int r = -1, e;
	if (conf_path(&tmp, name) == 0 && str_cats(&tmp, ".cdb.tmp") == 0 && str_0(&tmp) == 0 &&
	    conf_path(&dst, name) == 0 && str_cats(&dst, ".cdb") == 0 && str_0(&dst) == 0 &&
	    rename(tmp.s, dst.s) == 0)
		r = conf_sync_dir() < 0 ? CONF_UNSYNCED : 0;
	e = errno;
	str_free(&tmp);
	str_free(&dst);
	errno = e;
	return r;
}

void
conf_unstage(const char *name)
{
	struct str tmp = STR_INIT;
	if (conf_path(&tmp, name) == 0 && str_cats(&tmp, ".cdb.tmp") == 0 && str_0(&tmp) == 0)
		unlink(tmp.s);
	str_free(&tmp);
}

/* Build NAME.cdb.tmp from srcname; with install, also put srcname (when
 * it is not name) and then the database into place, each rename synced. */
static int
compile(const char *name, const char *srcname, unsigned long *lineno, int install)
{
	struct str src = STR_INIT, tmp = STR_INIT, dst = STR_INIT;
	struct str line = STR_INIT, key = STR_INIT, val = STR_INIT;
	struct cdb_make cm;
	struct buf b;
	struct stat st;
	char space[BUF_SIZE];
	unsigned long n = 0;
	int in = -1, out = -1, r = -1, e = 0, secret = !strcmp(name, "users");

	if (lineno)
		*lineno = 0;
	if (strcmp(name, "domains") && strcmp(name, "users") && strcmp(name, "aliases")) {
		errno = EINVAL;
		return -1;
	}
	if (conf_path(&src, srcname) < 0 || conf_path(&tmp, name) < 0 ||
	    str_cats(&tmp, ".cdb.tmp") < 0 || str_0(&tmp) < 0 ||
	    conf_path(&dst, name) < 0 || str_cats(&dst, ".cdb") < 0 || str_0(&dst) < 0)
		goto done;
	in = open(src.s, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno != ENOENT)   /* a missing file compiles to an empty table */
		goto done;
	/* the users text holds the hashes too: one made by hand (umask 022)
	 * loses group and other access, as mailuser's own writes have none */
	if (in >= 0 && secret && fstat(in, &st) == 0 && (st.st_mode & 077) &&
	    fchmod(in, st.st_mode & 0700) < 0)
		goto done;
	/* read-write: cdb_make_put reads back earlier keys to find duplicates */
	out = open(tmp.s, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		goto done;
	if (cdb_make_start(&cm, out) < 0)
		goto done;
	if (in >= 0) {
		buf_init(&b, in, space, sizeof space);
		for (;;) {
			int g = buf_getline(&b, &line, CONF_LINE_MAX, '\n'), p;
			if (g == BUF_EOF)
				break;
			n++;
			if (g == BUF_ERR)
				goto fail;
			if (g == BUF_TOOLONG || memchr(line.s, 0, line.len)) {
				errno = EINVAL;
				goto syntax;
			}
			p = parse_any(name, line.s, line.len, &key, &val);
			if (p < 0) {
				if (errno == EINVAL)
					goto syntax;
				goto fail;
			}
			if (p > 0) {
				p = cdb_make_put(&cm, key.s, (unsigned)key.len, val.s, (unsigned)val.len,
				    CDB_PUT_INSERT);
				if (p < 0)
					goto fail;
				if (p > 0) {   /* the same key twice */
					errno = EINVAL;
					goto syntax;
				}
			}
			if (g == BUF_PARTIAL)
				break;
		}
	}
	if (cdb_make_finish(&cm) < 0)
		goto done;
	/* the group of the control directory may read users.cdb */
	if (secret && stat(conf_dir(), &st) == 0)
		(void)fchown(out, (uid_t)-1, st.st_gid);
	if (fchmod(out, secret ? MODE_SECRET : MODE_PUBLIC) < 0 || fsync(out) < 0)
		goto done;
	if (close(out) < 0) {
		out = -1;
		goto done;
	}
	out = -1;
	if (!install) {
		r = 0;
		goto done;
	}
	/* the text goes into place (and to disk) before the database: a
	 * crash in between leaves the text ahead, which the next compile
	 * catches up with; the other way round the next compile would undo
	 * a change the servers had already seen */
	if (strcmp(srcname, name) != 0) {
		struct str text = STR_INIT;
		int rr = conf_path(&text, name) < 0 || rename(src.s, text.s) < 0 ? -1 : conf_sync_dir() < 0 ? CONF_TEXT_AHEAD : 0;
		e = errno;
		str_free(&text);
		errno = e;
		if (rr < 0) {
			r = rr;
			goto done;
		}
	}
	if (rename(tmp.s, dst.s) < 0)
		goto done;
	/* in use now: the failure to report is another one */
	r = conf_sync_dir() < 0 ? CONF_UNSYNCED : 0;
	goto done;
syntax:
	if (lineno)
		*lineno = n;
fail:
	cdb_make_finish(&cm);   /* frees its record lists */
done:
	e = errno;
	if ((r == -1 || r == CONF_TEXT_AHEAD) && tmp.s)
		unlink(tmp.s);   /* not in place: the new database was not renamed */
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (val.s)
		explicit_bzero(val.s, val.cap);
	if (line.s)
		explicit_bzero(line.s, line.cap);
	str_free(&src);
	str_free(&tmp);
	str_free(&dst);
	str_free(&line);
	str_free(&key);
	str_free(&val);
	errno = e;
	return r;
}

int
conf_lock(int timeout_ms)
{
	struct str path = STR_INIT;
	long long end = buf_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd;

	if (conf_path(&path, "lock") < 0)
		return -1;
	fd = open(path.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	str_free(&path);
	if (fd < 0)
		return -1;
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (buf_now_ms() >= end) {
			errno = ETIMEDOUT;
			break;
		}
		nanosleep(&ts, NULL);
	}
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}
