/* Text control files, edited in memory and replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "table.h"

int
table_load(struct table *t, const char *name)
{
	struct str path = STR_INIT;
	struct stat st;
	int fd;

	t->name = name;
	t->badline = 0;
	str_trunc(&t->text, 0);
	if (conf_path(&path, name) < 0)
		return -1;
	fd = open(path.s, O_RDONLY | O_CLOEXEC);
	str_free(&path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size > TABLE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	for (;;) {
		ssize_t r;
		if (t->text.len >= TABLE_MAX) {
			errno = EFBIG;
			goto fail;
		}
		if (str_readyplus(&t->text, BUF_SIZE) < 0)
			goto fail;
		r = read(fd, t->text.s + t->text.len, BUF_SIZE);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		t->text.len += (size_t)r;
	}
	close(fd);
	return str_0(&t->text);
fail:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

static int
key_of(const char *name, const char *line, size_t len, struct str *key)
{
	struct str v = STR_INIT;
	int r;
	if (!strcmp(name, "domains")) {
		r = conf_parse_domain(line, len, key);
	} else if (!strcmp(name, "aliases")) {
		r = conf_parse_alias(line, len, key, &v);
	} else {
		struct conf_user u = CONF_USER_INIT;
		r = conf_parse_user(line, len, &u);
		if (r > 0 && str_copyb(key, u.addr.s, u.addr.len) < 0)
			r = -1;
		conf_user_free(&u);
	}
	str_free(&v);
	return r;
}

int
table_each(struct table *t, table_fn *fn, void *ctx)
{
	struct str key = STR_INIT;
	size_t off = 0;
	unsigned long n = 0;
	int r = 0;

	while (off < t->text.len) {
		const char *line = t->text.s + off;
		const char *nl = memchr(line, '\n', t->text.len - off);
		size_t len = nl ? (size_t)(nl - line) : t->text.len - off;
		int p;
		n++;
		if (len > CONF_LINE_MAX || memchr(line, 0, len)) {
			errno = EINVAL;
			p = -1;
		} else {
			p = key_of(t->name, line, len, &key);
		}
		if (p < 0) {
			if (errno == EINVAL)
				t->badline = n;
			r = -1;
			break;
		}
		if (p > 0 && str_0(&key) == 0) {
			r = fn(ctx, &key, line, len, off);
			if (r < 0 && errno == EINVAL)
				t->badline = n;
			if (r)
				break;
		}
		off += len + (nl ? 1 : 0);
	}
	str_free(&key);
	return r;
}

struct findctx {
	const char *key;
	size_t off, len;
	int found;
	const struct str *text;
};

static int
find_fn(void *ctx, const struct str *key, const char *line, size_t len, size_t off)
{
	struct findctx *f = ctx;
	(void)line;
	if (!str_eq(key, f->key))
		return 0;
	if (f->found) {
		/* a hand edit the compiler would refuse: deleting only the
		 * first line would leave the entry in force */
		errno = EINVAL;
		return -1;
	}
	f->found = 1;
	f->off = off;
	f->len = len + (off + len < f->text->len ? 1 : 0);
	return 0;
}

int
table_find(struct table *t, const char *key, size_t *off, size_t *len)
{
	struct findctx f = { key, 0, 0, 0, &t->text };
	if (table_each(t, find_fn, &f) < 0)
		return -1;
	if (f.found) {
		*off = f.off;
		*len = f.len;
	}
	return f.found;
}

int
table_splice(struct table *t, size_t off, size_t len, const char *line)
{
	struct str n = STR_INIT;
	if (!t->text.s && str_0(&t->text) < 0)   /* an empty table: no NULL arithmetic */
		return -1;
	if (str_copyb(&n, t->text.s, off) < 0 ||
	    (line && (str_cats(&n, line) < 0 || str_catc(&n, '\n') < 0)) ||
	    str_catb(&n, t->text.s + off + len, t->text.len - off - len) < 0 ||
	    str_0(&n) < 0) {
		str_free(&n);
		return -1;
	}
	str_free(&t->text);
	t->text = n;
	return 0;
}

int
table_append(struct table *t, const char *line)
{
	if (t->text.len && t->text.s[t->text.len - 1] != '\n' && str_catc(&t->text, '\n') < 0)
		return -1;
	return table_splice(t, t->text.len, 0, line);
}

int
table_commit(struct table *t, unsigned long *lineno)
{
	struct str tmpname = STR_INIT, tmp = STR_INIT;
	/* users holds password hashes: root only */
	mode_t mode = strcmp(t->name, "users") ? 0644 : 0600;
	int fd = -1, r = -1, e;

	*lineno = 0;
	if (str_copys(&tmpname, t->name) < 0 || str_cats(&tmpname, ".tmp") < 0 || str_0(&tmpname) < 0 ||
	    conf_path(&tmp, tmpname.s) < 0)
		goto done;
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		goto done;
	if (fchmod(fd, mode) < 0 || buf_writeall(fd, t->text.s, t->text.len, 0, 0) < 0 || fsync(fd) < 0)
		goto done;
	if (close(fd) < 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	/* compile first: a syntax error leaves both files as they were;
	 * then the text and the database go into place, in that order */
	r = conf_compile_src(t->name, tmpname.s, lineno);   /* 0, -1, CONF_UNSYNCED or CONF_TEXT_AHEAD */
done:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (r == -1 && tmp.s)
		unlink(tmp.s);
	str_free(&tmpname);
	str_free(&tmp);
	errno = e;
	return r;
}

void
table_free(struct table *t)
{
	if (t->text.s)
		explicit_bzero(t->text.s, t->text.cap);
	str_free(&t->text);
}
