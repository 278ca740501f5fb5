/* DSN parameters and RFC 3464 reports. The report is built in memory;
 * the original message part is capped (DSN_FULL_MAX, or headers only). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "base64.h"
#include "dns.h"
#include "dsn.h"
#include "mime.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
dsn_xtext_decode(const char *s, size_t len, struct str *out)
{
	size_t i;
	str_trunc(out, 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c < ' ' || c == 0x7f)
			continue;
		if (str_catc(out, (char)c) < 0)
			return -1;
	}
	return str_0(out);
}

static int
prefix_ci(const char *w, size_t wl, const char *p)
{
	size_t n = strlen(p);
	return wl >= n && strncasecmp(w, p, n) == 0;
}

static unsigned int
notify_parse(const char *s, size_t len)
{
	unsigned int v = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		if (j - i == 7 && strncasecmp(s + i, "SUCCESS", 7) == 0)
			v |= DSN_NOTIFY_SUCCESS;
		else if (j - i == 7 && strncasecmp(s + i, "FAILURE", 7) == 0)
			v |= DSN_NOTIFY_FAILURE;
		else if (j - i == 5 && strncasecmp(s + i, "DELAY", 5) == 0)
			v |= DSN_NOTIFY_DELAY;
		else if (j - i == 5 && strncasecmp(s + i, "NEVER", 5) == 0)
			v |= DSN_NOTIFY_NEVER;
		i = j + 1;
	}
	return v;
}

/* apply each space-separated word of one line */
static int
line_words(const char *s, size_t len, struct dsn_params *p, struct dsn_rcpt *r)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		const char *w = s + i;
		size_t wl;
		while (j < len && s[j] != ' ')
			j++;
		wl = j - i;
		if (!r && prefix_ci(w, wl, "RET=")) {
			if (wl == 8 && strncasecmp(w + 4, "FULL", 4) == 0)
				p->ret = DSN_RET_FULL;
			else if (wl == 8 && strncasecmp(w + 4, "HDRS", 4) == 0)
				p->ret = DSN_RET_HDRS;
		} else if (!r && prefix_ci(w, wl, "ENVID=")) {
			if (str_copyb(&p->envid, w + 6, wl - 6) < 0)
				return -1;
		} else if (r && prefix_ci(w, wl, "NOTIFY=")) {
			r->notify = notify_parse(w + 7, wl - 7);
		} else if (r && prefix_ci(w, wl, "ORCPT=")) {
			if (str_copyb(&r->orcpt, w + 6, wl - 6) < 0)
				return -1;
		}
		i = j + 1;
	}
	return 0;
}

int
dsn_params_parse(struct dsn_params *p, const char *text, size_t nrcpt)
{
	size_t line = 0, len = text ? strlen(text) : 0, i = 0;
	dsn_params_free(p);
	if (nrcpt && !(p->r = calloc(nrcpt, sizeof *p->r))) {
		errno = ENOMEM;
		return -1;
	}
	p->n = nrcpt;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
		if (line == 0) {
			if (line_words(text + i, l, p, NULL) < 0)
				return -1;
		} else if (line - 1 < nrcpt) {
			if (line_words(text + i, l, p, &p->r[line - 1]) < 0)
				return -1;
		}
		line++;
		i += l + 1;
	}
	return 0;
}

void
dsn_params_free(struct dsn_params *p)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		str_free(&p->r[i].orcpt);
	free(p->r);
	str_free(&p->envid);
	p->r = NULL;
	p->n = 0;
	p->ret = DSN_RET_NONE;
}

unsigned int
dsn_rcpt_notify(const char *s, size_t len)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	struct dsn_rcpt r = { 0, STR_INIT };
	unsigned int v = line_words(s, len, &p, &r) < 0 ? 0 : r.notify;
	str_free(&r.orcpt);
	return v;
}

int
dsn_wants(const struct dsn_params *p, size_t i, unsigned int kind)
{
	unsigned int v = i < p->n ? p->r[i].notify : 0;
	if (v == 0)
		return kind == DSN_NOTIFY_FAILURE || kind == DSN_NOTIFY_DELAY;
	if (v & DSN_NOTIFY_NEVER)
		return 0;
	return (v & kind) != 0;
}

int
dsn_params_subset(const char *text, const size_t *idx, size_t n, struct str *out)
{
	size_t len = text ? strlen(text) : 0, k, i, line;
	str_trunc(out, 0);
	if (!len)
		return str_0(out);
	for (k = 0; k <= n; k++) {
		size_t want = k == 0 ? 0 : idx[k - 1] + 1;
		const char *s = NULL;
		size_t l = 0;
		for (i = 0, line = 0; i <= len; line++) {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
			if (line == want) {
				s = text + i;
				l = ll;
				break;
			}
			if (!nl)
				break;
			i += ll + 1;
		}
		if ((s && str_catb(out, s, l) < 0) || str_catc(out, '\n') < 0)
			return -1;
	}
	return 0;
}

int
dsn_xtext_encode(struct str *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < '!' || c > '~' || c == '+' || c == '=' ? str_catc(out, '+') < 0 || str_catc(out, hex[c >> 4]) < 0 ||
		    str_catc(out, hex[c & 15]) < 0 : str_catc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

int
dsn_params_forward(const char *text, size_t idx, const char *rcpt, size_t n, int keep_success, struct str *out)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	struct str line = STR_INIT;
	const char *nl = text ? strchr(text, '\n') : NULL;
	unsigned int v;
	size_t i;
	int r = -1, ascii = 1;
	str_trunc(out, 0);
	if (dsn_params_parse(&p, text, idx + 1) < 0)
		return -1;
	v = p.r[idx].notify;
	if (!keep_success && (v & DSN_NOTIFY_SUCCESS) && !(v &= ~(unsigned)DSN_NOTIFY_SUCCESS))
		v = DSN_NOTIFY_NEVER;
	if (v && str_cats(&line, "NOTIFY=") < 0)
		goto out;
	if (v & DSN_NOTIFY_NEVER ? str_cats(&line, "NEVER") < 0 :
	    ((v & DSN_NOTIFY_SUCCESS) && str_cats(&line, "SUCCESS,") < 0) ||
	    ((v & DSN_NOTIFY_FAILURE) && str_cats(&line, "FAILURE,") < 0) ||
	    ((v & DSN_NOTIFY_DELAY) && str_cats(&line, "DELAY,") < 0))
		goto out;
	if (line.len && line.s[line.len - 1] == ',')
		line.len--;
	/* a blank (a quoted local part, "a b"@x) is xtext's "+20"; only a
	 * UTF-8 address has no rfc822 form */
	for (i = 0; rcpt[i]; i++)
		ascii &= (unsigned char)rcpt[i] >= ' ' && (unsigned char)rcpt[i] < 0x7f;
	if (p.r[idx].orcpt.len || ascii) {
		if ((line.len && str_catc(&line, ' ') < 0) || str_cats(&line, "ORCPT=") < 0)
			goto out;
		if (p.r[idx].orcpt.len ? str_catb(&line, p.r[idx].orcpt.s, p.r[idx].orcpt.len) < 0 :
		    str_cats(&line, "rfc822;") < 0)
			goto out;
		if (!p.r[idx].orcpt.len && dsn_xtext_encode(&line, rcpt, strlen(rcpt)) < 0)
			goto out;
	}
	/* the first line as it was, then the recipient's line n times */
	if (str_catb(out, text ? text : "", nl ? (size_t)(nl - text) : text ? strlen(text) : 0) < 0 ||
	    str_catc(out, '\n') < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (str_catb(out, line.s ? line.s : "", line.len) < 0 || str_catc(out, '\n') < 0)
			goto out;
	r = str_0(out);
out:
	str_free(&line);
	dsn_params_free(&p);
	return r;
}

static int
cat_date(struct str *out, unsigned long long t)
{
	char b[64];
	struct tm tm;
	time_t tt = (time_t)t;
	size_t n;
	if (!gmtime_r(&tt, &tm))
		return str_cats(out, "Thu, 01 Jan 1970 00:00:00 +0000");
	n = strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return str_catb(out, b, n);
}

static int
cats(struct str *o, const char *a, const char *b, const char *c)
{
	return str_cats(o, a) < 0 || (b && str_cats(o, b) < 0) || (c && str_cats(o, c) < 0) ? -1 : 0;
}

/* text from outside (an address, a reply) in a line of ours: a control
 * byte shows as '?', as a CR or LF would end the line (a header field
 * or a status field injected: queue-add takes any envelope bytes), and
 * so does an 8-bit one unless utf8 */
static int
cat_text(struct str *o, const char *s, int utf8)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (str_catc(o, c < ' ' || c == 0x7f || (c >= 0x80 && !utf8) ? '?' : *s) < 0)
			return -1;
	}
	return 0;
}

/* a peer's reply text, 7-bit: RFC 3464 fields and our us-ascii text
 * part carry US-ASCII only, and an 8-bit report would fail at a peer
 * without 8BITMIME */
static int
cat_ascii(struct str *o, const char *s)
{
	return cat_text(o, s, 0);
}

/* Is the text an SMTP reply ("550 ...", "421-...")? Only such a text is
 * of diagnostic-type smtp (RFC 3464 2.3.6); ours (a local failure, a
 * connection that failed) are not. */
static int
is_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
	    (s[3] == ' ' || s[3] == '-' || s[3] == 0);
}

/* end of the header section: offset after the blank line, or where a
 * line that is no field starts (the body, as mail readers and smtp-send's
 * 7-bit conversion take it: not to be returned as header), or len */
static size_t
header_end(const char *m, size_t len)
{
	size_t hl, body;
	mime_split(m, len, &hl, &body);
	return body;
}

/* RFC 5322 2.1.1: no line over 998 bytes. A line we wrote (a header
 * field, a line of the human part) longer than that is cut, at a UTF-8
 * character's start: its text is an address of up to QUEUE_ADDR_MAX
 * bytes or a peer's reply, which no folding at blanks can shorten enough. */
enum { LINE_MAX_BYTES = 998 };

static void
line_cut(struct str *o, size_t start)
{
	size_t n = start + LINE_MAX_BYTES;
	if (o->len <= n)
		return;
	while (n > start && ((unsigned char)o->s[n] & 0xc0) == 0x80)
		n--;
	str_trunc(o, n);
}

/* xtext-decoded text (ENVID, ORCPT) for a field: 8-bit bytes only in a
 * global report, whose parts may carry UTF-8 */
static int
cat_decoded(struct str *o, struct str *x, const char *xtext, int global)
{
	if (dsn_xtext_decode(xtext, strlen(xtext), x) < 0)
		return -1;
	return global ? str_cats(o, x->s) : cat_ascii(o, x->s);
}

/* the returned message: a NUL byte is no MIME 8bit data (RFC 2045 2.8),
 * and the report travels as a C string (queue-run's inject), where it
 * would end the report there, boundary and all */
static int
cat_nonul(struct str *o, const char *s, size_t n)
{
	const char *z;
	while ((z = memchr(s, 0, n))) {
		if (str_catb(o, s, (size_t)(z - s)) < 0 || str_catc(o, '?') < 0)
			return -1;
		n -= (size_t)(z - s) + 1;
		s = z + 1;
	}
	return str_catb(o, s, n);
}

static int
has8s(const char *s)
{
	return s && str_8bit(s, strlen(s));
}

/* the returned message in base64, 76 columns (RFC 2045 6.8), for 8-bit
 * headers in a report that is otherwise 7-bit */
static int
cat_base64(struct str *o, const char *s, size_t n)
{
	struct str t = STR_INIT;
	size_t i, k;
	int r = -1;
	if (cat_nonul(&t, s, n) < 0)
		goto out;
	for (i = 0; i < t.len; i += k) {
		k = t.len - i < 57 ? t.len - i : 57;
		if (base64_encode(o, t.s + i, k) < 0 || str_catc(o, '\n') < 0)
			goto out;
	}
	r = 0;
out:
	str_free(&t);
	return r;
}

/* The report's recipient for its To: field, in out. A UTF-8 address
 * whose local part is ASCII has an ASCII form, the same mailbox with the
 * domain's A-labels (RFC 5891), that smtp-send gives a peer without
 * SMTPUTF8 (RFC 6531 3.2): written so, it leaves the report 7-bit for
 * such a peer, which may lack 8BITMIME too (an 8-bit report fails there
 * with 5.6.3 and bounces twice). Else the address as it is; 1 when it
 * stays 8-bit. -1 ENOMEM. */
static int
to_field(struct str *out, const char *to)
{
	const char *at = strrchr(to, '@'), *p;
	char dom[DNS_NAME_MAX + 1];
	str_trunc(out, 0);
	if (!has8s(to))
		return str_copys(out, to) < 0 ? -1 : 0;
	for (p = to; at && p < at; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (!at || p < at || dns_idna(at + 1, dom, sizeof dom) < 0)
		return str_copys(out, to) < 0 ? -1 : 1;
	return str_copyb(out, to, (size_t)(at + 1 - to)) < 0 || str_cats(out, dom) < 0 ? -1 : 0;
}

int
dsn_report_make(struct str *o, const struct dsn_report *d)
{
	struct str b = STR_INIT, x = STR_INIT, to = STR_INIT;
	size_t i, n, start;
	int delayed = d->n && strcmp(d->r[0].action, "delayed") == 0;
	/* a success report may mix deliveries, relays and expansions (RFC 3464 2.3.3) */
	int relayed = 0, expanded = 0, plain = 0, delivered, hdrs, global, addr8, b64;
	size_t he = header_end(d->orig, d->origlen);
	str_trunc(o, 0);
	/* RFC 6533: a UTF-8 address, or a returned header in UTF-8 (RFC
	 * 6532), makes the report an internationalized one: its parts are
	 * the global-* types, which may carry UTF-8; the plain types are
	 * US-ASCII only. A UTF-8 address (the report's own recipient's
	 * only when it has no ASCII form) makes the report 8-bit: with a
	 * UTF-8 envelope smtp-send asks for SMTPUTF8, with an ASCII one
	 * (only a recipient of the original in UTF-8) it sends 8BITMIME or,
	 * to a 7-bit peer, encodes the global parts. Without one the report is
	 * 7-bit, for a peer without 8BITMIME (RFC 6152 3) takes it: an
	 * 8-bit body is not returned, 8-bit headers go in base64. */
	if ((addr8 = to_field(&to, d->to)) < 0 || str_0(&to) < 0)
		goto nomem;
	for (i = 0; i < d->n; i++) {
		relayed |= strcmp(d->r[i].action, "relayed") == 0;
		expanded |= strcmp(d->r[i].action, "expanded") == 0;
		plain |= strcmp(d->r[i].action, "delivered") == 0;
		addr8 |= has8s(d->r[i].rcpt) || has8s(d->r[i].orcpt);
	}
	global = addr8 || str_8bit(d->orig, he);
	delivered = plain || relayed || expanded;
	/* RFC 2046 5.1.1: no part may hold the boundary. The returned
	 * message is the sender's text and a queue id is easy to guess, so
	 * one that holds ours gets a random tail to tell it apart. */
	if (cats(&b, "pipemail-", d->id, "-report") < 0)
		goto nomem;
	for (i = 0; i < 8 && d->origlen && memmem(d->orig, d->origlen, b.s, b.len); i++)
		if (str_catc(&b, '-') < 0 || str_catu(&b, arc4random()) < 0)
			goto nomem;
	if (cats(o, "From: Mail Delivery System <MAILER-DAEMON@", d->me, ">\n") < 0)
		goto nomem;
	start = o->len;
	if (str_cats(o, "To: <") < 0 || cat_text(o, to.s, 1) < 0 || str_catc(o, '>') < 0)
		goto nomem;
	line_cut(o, start);
	if (str_catc(o, '\n') < 0 ||
	    cats(o, "Subject: ", delayed ? "Delayed Mail (still being retried)" : delivered ?
	        "Successful Mail Delivery Report" : "Undelivered Mail Returned to Sender", "\n") < 0 ||
	    str_cats(o, "Date: ") < 0 || cat_date(o, d->now) < 0 ||
	    cats(o, "\nMessage-ID: <", d->id, ".") < 0 || str_catu(o, d->now) < 0 || str_catc(o, '.') < 0 ||
	    str_catu(o, (unsigned long long)getpid()) < 0 ||
	    cats(o, ".dsn@", d->me, ">\n") < 0 ||
	    str_cats(o, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n") < 0 ||
	    cats(o, "Content-Type: multipart/report; report-type=", global ? "global-" : "", "delivery-status;\n") < 0 ||
	    cats(o, "\tboundary=\"", b.s, "\"\n\n") < 0 ||
	    str_cats(o, "This is a MIME-encapsulated message.\n\n") < 0)
		goto nomem;
	/* human part */
	if (cats(o, "--", b.s, addr8 ? "\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" :
	        "\nContent-Type: text/plain; charset=us-ascii\n\n") < 0 ||
	    cats(o, "This is the mail system at host ", d->me, ".\n\n") < 0 ||
	    str_cats(o, delayed ? "Your message could not be delivered yet to the recipients below.\n"
	        "It will be retried; you need not send it again.\n" : delivered ? plain ?
	        "Your message was delivered to the recipients below, as you asked.\n" :
	        "Your message was passed on for the recipients below, as you asked.\n" :
	        "I'm sorry to have to inform you that your message could not\n"
	        "be delivered to one or more recipients.\n") < 0 ||
	    str_cats(o, relayed ? "Those marked \"relayed\" were handed to a system that sends no further notice.\n" : "") < 0 ||
	    str_cats(o, expanded ? "Those marked \"expanded\" were forwarded to several addresses; failures there may\n"
	        "still be reported to you.\n" : "") < 0 ||
	    str_catc(o, '\n') < 0)
		goto nomem;
	for (i = 0; i < d->n; i++) {
		/* a host "said" only its reply: our own reason (no SMTPUTF8
		 * there, connection lost) is not put in its mouth */
		int said = d->r[i].diag && is_reply(d->r[i].diag);
		start = o->len;
		if (str_catc(o, '<') < 0 || cat_text(o, d->r[i].rcpt, 1) < 0 || str_cats(o, ">: ") < 0 ||
		    (delivered && strcmp(d->r[i].action, "delivered") != 0 && cats(o, d->r[i].action, ": ", NULL) < 0) ||
		    str_cats(o, d->r[i].remote && !said ? "while talking to " : "") < 0 ||
		    cat_ascii(o, d->r[i].remote ? d->r[i].remote : "") < 0 ||
		    str_cats(o, d->r[i].remote ? said ? " said: " : ": " : "") < 0 ||
		    cat_ascii(o, d->r[i].diag && *d->r[i].diag ? d->r[i].diag : "no further information") < 0)
			goto nomem;
		line_cut(o, start);
		if (str_catc(o, '\n') < 0)
			goto nomem;
	}
	/* machine part */
	if (cats(o, "\n--", b.s, addr8 ? "\nContent-Type: message/global-delivery-status\n"
	        "Content-Transfer-Encoding: 8bit\n\n" : global ? "\nContent-Type: message/global-delivery-status\n\n" :
	        "\nContent-Type: message/delivery-status\n\n") < 0 ||
	    cats(o, "Reporting-MTA: dns; ", d->me, "\n") < 0)
		goto nomem;
	if (d->envid && *d->envid) {
		start = o->len;
		if (str_cats(o, "Original-Envelope-Id: ") < 0 || cat_decoded(o, &x, d->envid, addr8) < 0)
			goto nomem;
		line_cut(o, start);
		if (str_catc(o, '\n') < 0)
			goto nomem;
	}
	if (str_cats(o, "Arrival-Date: ") < 0 || cat_date(o, d->arrival) < 0 || str_catc(o, '\n') < 0)
		goto nomem;
	for (i = 0; i < d->n; i++) {
		const struct dsn_report_rcpt *r = &d->r[i];
		if (str_catc(o, '\n') < 0)
			goto nomem;
		if (r->orcpt && *r->orcpt) {
			start = o->len;
			if (str_cats(o, "Original-Recipient: ") < 0 || cat_decoded(o, &x, r->orcpt, addr8) < 0)
				goto nomem;
			line_cut(o, start);
			if (str_catc(o, '\n') < 0)
				goto nomem;
		}
		start = o->len;
		if (cats(o, "Final-Recipient: ", has8s(r->rcpt) ? "utf-8; " : "rfc822; ", NULL) < 0 ||
		    cat_text(o, r->rcpt, 1) < 0)
			goto nomem;
		line_cut(o, start);
		if (str_catc(o, '\n') < 0 ||
		    cats(o, "Action: ", r->action, "\n") < 0 ||
		    cats(o, "Status: ", r->status, "\n") < 0)
			goto nomem;
		start = o->len;
		if (r->remote && *r->remote && strcmp(r->remote, "-") != 0 &&
		    (str_cats(o, "Remote-MTA: dns; ") < 0 || cat_ascii(o, r->remote) < 0))
			goto nomem;
		line_cut(o, start);
		if (o->len > start && str_catc(o, '\n') < 0)
			goto nomem;
		start = o->len;
		if (r->diag && *r->diag && (str_cats(o, is_reply(r->diag) ? "Diagnostic-Code: smtp; " :
		    "Diagnostic-Code: X-Pipemail; ") < 0 || cat_ascii(o, r->diag) < 0))
			goto nomem;
		line_cut(o, start);
		if (o->len > start && str_catc(o, '\n') < 0)
			goto nomem;
		if (r->last && (str_cats(o, "Last-Attempt-Date: ") < 0 || cat_date(o, r->last) < 0 ||
		    str_catc(o, '\n') < 0))
			goto nomem;
		/* RFC 3464 2.3.9: how long a delayed one is still tried */
		if (d->until && strcmp(r->action, "delayed") == 0 && (str_cats(o, "Will-Retry-Until: ") < 0 ||
		    cat_date(o, d->until) < 0 || str_catc(o, '\n') < 0))
			goto nomem;
	}
	/* the original: headers only when asked, or when it is too big */
	hdrs = d->ret == DSN_RET_HDRS || (d->ret == DSN_RET_NONE && d->origlen > DSN_FULL_MAX) ||
	    (!addr8 && str_8bit(d->orig + he, d->origlen - he));
	n = hdrs ? he : d->origlen;
	/* 8-bit headers of a 7-bit report: message/global-headers and
	 * message/global may be encoded (RFC 6533 6.3, RFC 6532 3.7) */
	b64 = !addr8 && str_8bit(d->orig, n);
	if (cats(o, "\n--", b.s, "\nContent-Type: ") < 0 ||
	    cats(o, global ? hdrs ? "message/global-headers" : "message/global" :
	        hdrs ? "text/rfc822-headers" : "message/rfc822", "\n", NULL) < 0 ||
	    /* an 8-bit body (SMTPUTF8 mail) is declared so, as RFC 2046 5.2.1 asks */
	    str_cats(o, b64 ? "Content-Transfer-Encoding: base64\n\n" : str_8bit(d->orig, n) ?
	        "Content-Transfer-Encoding: 8bit\n\n" : "\n") < 0 ||
	    (b64 ? cat_base64(o, d->orig, n) < 0 : cat_nonul(o, d->orig, n) < 0) ||
	    (!b64 && n && d->orig[n - 1] != '\n' && str_catc(o, '\n') < 0) ||
	    cats(o, "\n--", b.s, "--\n") < 0)
		goto nomem;
	str_free(&b);
	str_free(&x);
	str_free(&to);
	return 0;
nomem:
	str_free(&b);
	str_free(&x);
	str_free(&to);
	errno = ENOMEM;
	return -1;
}
