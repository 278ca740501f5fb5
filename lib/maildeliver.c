/* Local delivery into a Maildir (see maildeliver.h): envelope lines on
 * top, then the message with CRLF turned into LF, through two fixed
 * buffers, so memory stays constant whatever the message size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "maildeliver.h"
#include "maildir.h"

enum {
	IN_SIZE = 65536,
	OUT_SIZE = 65536,
	HLINE_MAX = 1024   /* header bytes kept per line for the loop check */
};

static int
cat_clean(struct str *out, const char *v, size_t n)
{
	size_t i;
	while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))   /* DTLINE ends with one */
		n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (str_catc(out, (c < 0x20 && c != '\t') || c == 0x7f ? '_' : (char)c) < 0)
			return -1;
	}
	return 0;
}

int
maildeliver_envelope(struct str *top, struct str *dt, const char *sender, const char *rcpt,
    const char *dtline)
{
	str_trunc(top, 0);
	str_trunc(dt, 0);
	if (sender && (str_cats(top, "Return-Path: <") < 0 || cat_clean(top, sender, strlen(sender)) < 0
	    || str_cats(top, ">\n") < 0))
		return -1;
	if (dtline && *dtline) {
		if (cat_clean(dt, dtline, strlen(dtline)) < 0)
			return -1;
	} else if (rcpt) {
		if (str_cats(dt, "Delivered-To: ") < 0 || cat_clean(dt, rcpt, strlen(rcpt)) < 0)
			return -1;
	}
	if (dt->len && str_catc(dt, '\n') < 0)
		return -1;
	return str_catb(top, dt->s, dt->len) < 0 || str_0(top) < 0 || str_0(dt) < 0 ? -1 : 0;
}

/* "Name: value" -> name and trimmed value, for a case-insensitive compare */
static int
split_field(const char *s, size_t n, size_t *namelen, const char **val, size_t *vallen)
{
	const char *colon = memchr(s, ':', n);
	const char *v, *end = s + n;
	if (!colon)
		return -1;
	*namelen = (size_t)(colon - s);
	while (*namelen && (s[*namelen - 1] == ' ' || s[*namelen - 1] == '\t'))
		(*namelen)--;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*val = v;
	*vallen = (size_t)(end - v);
	return 0;
}

static int
same_field(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t an, bn, av, bv;
	const char *avp, *bvp;
	if (split_field(a, alen, &an, &avp, &av) < 0 || split_field(b, blen, &bn, &bvp, &bv) < 0)
		return 0;
	return an == bn && av == bv && strncasecmp(a, b, an) == 0 && strncasecmp(avp, bvp, av) == 0;
}

struct copier {
	int out;
	char *o;
	size_t olen;
	int in_header;
	int ended;           /* a header line ended; the next byte says if it goes on */
	size_t hlen;         /* bytes of the current header field seen, unfolded */
	char hline[HLINE_MAX];
	const struct str *dt;
	int loop;
	char last;           /* the last byte written, when size > 0 */
	struct copy_result *r;
};

static int
flush_out(struct copier *c)
{
	size_t n = c->olen;
	c->olen = 0;
	return buf_writeall(c->out, c->o, n, 0, 0);
}

/* the header field seen so far is complete: is it dt? */
static void
field_end(struct copier *c)
{
	if (c->hlen && c->dt->len && c->hlen <= HLINE_MAX && same_field(c->hline, c->hlen, c->dt->s, c->dt->len))
		c->loop = 1;
	c->hlen = 0;
	c->ended = 0;
}

/* one output byte; the header is watched field by field for dt, folded
 * fields unfolded (RFC 5322 2.2.3: a line starting with a blank continues
 * the field), so a Delivered-To a relay refolded is still ours */
static int
emit(struct copier *c, char ch)
{
	if (c->olen == OUT_SIZE && flush_out(c) < 0)
		return -1;
	c->o[c->olen++] = ch;
	c->r->size++;
	/* what POP3 RETR and IMAP BODY[] send: an LF after a CR kept in
	 * the file is already a CRLF */
	c->r->vsize += ch == '\n' && c->last != '\r' ? 2 : 1;
	c->last = ch;
	if (!c->in_header)
		return 0;
	if (c->ended) {
		if (ch == ' ' || ch == '\t')
			c->ended = 0;   /* a continuation: the field goes on */
		else
			field_end(c);
	}
	if (ch != '\n') {
		if (c->hlen < HLINE_MAX)
			c->hline[c->hlen] = ch;
		c->hlen++;
		return 0;
	}
	if (c->hlen == 0)
		c->in_header = 0;   /* the blank line ends the header */
	else
		c->ended = 1;
	return 0;
}

int
maildeliver_copy(int in, int out, const struct str *top, const struct str *dt, struct copy_result *r)
{
	struct copier c = { .out = out, .in_header = 1, .dt = dt, .r = r };
	char *ibuf = malloc(IN_SIZE);
	int cr = 0, ret = COPY_OK;
	size_t i;

	r->size = r->vsize = 0;
	c.o = malloc(OUT_SIZE);
	if (!ibuf || !c.o) {
		ret = COPY_WRITE;
		goto done;
	}
	/* the envelope lines count in size and vsize but not in the header watch */
	c.in_header = 0;
	for (i = 0; i < top->len; i++)
		if (emit(&c, top->s[i]) < 0) {
			ret = COPY_WRITE;
			goto done;
		}
	c.in_header = 1;
	for (;;) {
		ssize_t n = read(in, ibuf, IN_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = COPY_READ;
			goto done;
		}
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			char ch = ibuf[i];
			/* a CR is held back until the next byte shows it is not part of CRLF */
			if (cr) {
				cr = 0;
				if (ch != '\n' && emit(&c, '\r') < 0)
					goto werr;
			}
			if (ch == '\r') {
				cr = 1;
				continue;
			}
			if (emit(&c, ch) < 0)
				goto werr;
			if (c.loop) {
				ret = COPY_LOOP;
				goto done;
			}
		}
	}
	/* a last line without its end gets one (a held CR becomes it), so
	 * the file is whole lines and W= is what a reader sends: a reader
	 * ends such a line itself, a count from the name cannot know */
	if ((cr || (r->size && c.last != '\n')) && emit(&c, '\n') < 0)
		goto werr;
	/* the input ended inside the header: its last field is complete */
	if (c.in_header)
		field_end(&c);
	if (c.loop) {
		ret = COPY_LOOP;
		goto done;
	}
	if (flush_out(&c) < 0)
		goto werr;
	goto done;
werr:
	ret = COPY_WRITE;
done:
	{
		int e = errno;
		free(ibuf);
		free(c.o);
		errno = e;
	}
	return ret;
}

enum { MODE_DIR = 0700, ERR_OBJ_MAX = 512 };

/* err = "unable to VERB OBJ: reason" (reason NULL: strerror(errno));
 * control bytes of OBJ (a folder or Maildir name) as '?', as die.c does,
 * so that err stays one line, and OBJ cut short so the reason shows */
static int
fail(struct str *err, int code, const char *verb, const char *obj, const char *reason)
{
	int e = errno;
	if (err) {
		size_t i;
		str_copys(err, "unable to ");
		str_cats(err, verb);
		str_catc(err, ' ');
		for (i = 0; obj[i] && i < ERR_OBJ_MAX; i++)
			str_catc(err, (unsigned char)obj[i] < ' ' || obj[i] == 0x7f ? '?' : obj[i]);
		if (obj[i])
			str_cats(err, "...");
		str_cats(err, ": ");
		str_cats(err, reason ? reason : strerror(e));
		if (str_0(err) < 0)
			err->len = 0;
	}
	errno = e;
	return code;
}

/* a Maildir++ folder is marked by a maildirfolder file */
static int
make_folder(const char *dir, struct str *err)
{
	struct str p = STR_INIT;
	int fd;
	if (maildir_make(dir, MODE_DIR) < 0)
		return fail(err, EXIT_TEMP, "create folder", dir, NULL);
	if (str_copys(&p, dir) < 0 || str_cats(&p, "/maildirfolder") < 0 || str_0(&p) < 0)
		return fail(err, EXIT_TEMP, "create", dir, "out of memory");
	fd = open(p.s, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fail(err, EXIT_TEMP, "create", p.s, NULL);
		str_free(&p);
		return EXIT_TEMP;
	}
	close(fd);
	str_free(&p);
	return EXIT_OK;
}

int
maildeliver(const struct maildeliver *d, int in, struct str *err, struct str *name,
    unsigned long long *size)
{
	struct str top = STR_INIT, dt = STR_INIT, folderpath = STR_INIT, nm = STR_INIT;
	struct maildir_quota q;
	struct maildir_tmp t;
	struct copy_result cr = { 0, 0 };
	const char *dir = d->maildir;
	int r, code = EXIT_TEMP;

	if (d->quota && maildir_quota_parse(d->quota, &q) < 0) {
		errno = EINVAL;
		return fail(err, EXIT_TEMP, "parse quota", d->quota, "malformed");
	}
	if (maildeliver_envelope(&top, &dt, d->sender, d->recipient, d->dtline) < 0) {
		fail(err, EXIT_TEMP, "build", "the envelope lines", "out of memory");
		goto out;
	}
	if (d->folder) {
		int f = maildir_folder_path(&folderpath, d->maildir, d->folder);
		if (f < 0) {
			if (errno == EINVAL)
				code = fail(err, EXIT_PERM, "deliver to folder", d->folder, "invalid folder name");
			else
				fail(err, EXIT_TEMP, "deliver to folder", d->folder, "out of memory");
			goto out;
		}
		if (f == 0)
			dir = folderpath.s;   /* else INBOX: the Maildir itself */
	}
	if (d->create) {
		if (maildir_make(d->maildir, MODE_DIR) < 0) {
			fail(err, EXIT_TEMP, "create maildir", d->maildir, NULL);
			goto out;
		}
		if (dir != d->maildir && make_folder(dir, err) != EXIT_OK)
			goto out;
	}
	/* quota: a cache that must never cost a message, so a read error only warns */
	if (maildir_quota_get(d->maildir, d->quota, &q) < 0) {
		if (errno != ENOENT)
			warn_sys("read quota of", d->maildir);
		memset(&q, 0, sizeof q);
	}
	if (maildir_quota_check(d->maildir, &q, 0, 1)) {
		code = fail(err, d->hardquota ? EXIT_PERM : EXIT_TEMP, "deliver to", d->maildir, "mailbox is over quota");
		goto out;
	}
	if (maildir_tmp_open(&t, dir) < 0) {
		fail(err, EXIT_TEMP, "create a file in the tmp directory of", dir, NULL);
		goto out;
	}
	r = maildeliver_copy(in, t.fd, &top, &dt, &cr);
	if (r != COPY_OK) {
		int e = errno;
		maildir_tmp_abort(&t);
		errno = e;
		if (r == COPY_LOOP)
			code = fail(err, EXIT_PERM, "deliver to", dir, "mail loop: the header already has this Delivered-To line");
		else if (r == COPY_READ)
			fail(err, EXIT_TEMP, "read", "the message", NULL);
		else
			fail(err, EXIT_TEMP, "write to the tmp directory of", dir, NULL);
		goto out;
	}
	if (maildir_quota_check(d->maildir, &q, cr.size, 1)) {
		maildir_tmp_abort(&t);
		code = fail(err, d->hardquota ? EXIT_PERM : EXIT_TEMP, "deliver to", d->maildir, "mailbox is over quota");
		goto out;
	}
	if (maildir_tmp_commit(&t, "new", NULL, (size_t)cr.vsize, &nm) < 0) {
		fail(err, EXIT_TEMP, "deliver into the new directory of", dir, NULL);
		goto out;
	}
	/* on stable storage now: what follows must not change the outcome */
	code = EXIT_OK;
	if (maildir_quota_add(d->maildir, (long long)cr.size, 1) < 0)
		warn_sys("update quota of", d->maildir);
	if (name)
		str_copyb(name, nm.s, nm.len), str_0(name);
	if (size)
		*size = cr.size;
out:
	str_free(&top);
	str_free(&dt);
	str_free(&folderpath);
	str_free(&nm);
	return code;
}
