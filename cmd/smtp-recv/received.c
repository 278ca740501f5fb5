/* The Received: line (RFC 5321 4.4) with the RFC 3848 / RFC 6531 "with"
 * keywords. Everything the client chose is made header-safe first: no
 * CR, LF or control byte can reach the header (THREATS I8). */
#include <string.h>
#include <time.h>
#include "smtp.h"
#include "termsafe.h"

/* At most 255 bytes. With utf8 (an address under SMTPUTF8, which RFC 6531
 * 3.7.3 allows in the "for" clause) a printable UTF-8 character goes as it
 * is, never cut; C1 controls, bidi overrides and bytes that are no UTF-8
 * do not (termsafe: a trace line is read on terminals too). */
static int
cat_safe(struct str *o, const char *p, size_t n, int utf8)
{
	size_t i = 0, k;
	while (i < n && i < 255) {
		unsigned char c = (unsigned char)p[i];
		if (utf8 && c > 0x7f && (k = termsafe_char((const unsigned char *)p + i, n - i)) > 1) {
			if (k > 255 - i)
				break;
			if (str_catb(o, p + i, k) < 0)
				return -1;
			i += k;
			continue;
		}
		if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '\\' || c == '[' || c == ']')
			c = '?';
		if (str_catc(o, (char)c) < 0)
			return -1;
		i++;
	}
	return 0;
}

int
received_line(struct session *s, struct str *o)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *with;
	static const char *const kw[2][2][2] = {
		/* [utf8][tls][auth] */
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};
	tls_facts(s);
	if (!gmtime_r(&now, &tm) || strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return -1;
	if (s->ehlo)
		with = kw[s->mp.smtputf8 != 0][s->tls != 0][s->authuser.len != 0];
	else
		with = "SMTP";
	if (str_cats(o, "Received: from ") < 0)
		return -1;
	/* an address literal is a valid From-domain (RFC 5321 4.4) as it is */
	if (smtpaddr_literal_ok(s->helo.s, s->helo.len) ? str_catb(o, s->helo.s, s->helo.len) < 0 :
	    cat_safe(o, s->helo.s, s->helo.len, 0) < 0)
		return -1;
	if (str_cats(o, " (") < 0)
		return -1;
	if (s->remotehost && (cat_safe(o, s->remotehost, strlen(s->remotehost), 0) < 0 || str_catc(o, ' ') < 0))
		return -1;
	if (str_catc(o, '[') < 0 || cat_safe(o, s->remoteip ? s->remoteip : "unknown",
	    strlen(s->remoteip ? s->remoteip : "unknown"), 0) < 0 || str_cats(o, "])\n\tby ") < 0 ||
	    cat_safe(o, s->me.s, s->me.len, 0) < 0 || str_cats(o, " (pipemail) with ") < 0 || str_cats(o, with) < 0)
		return -1;
	if (s->tls && s->tlsproto.len) {
		if (str_cats(o, " (") < 0 || cat_safe(o, s->tlsproto.s, s->tlsproto.len, 0) < 0)
			return -1;
		if (s->tlscipher.len && (str_catc(o, ' ') < 0 || cat_safe(o, s->tlscipher.s, s->tlscipher.len, 0) < 0))
			return -1;
		if (str_catc(o, ')') < 0)
			return -1;
	}
	if (s->nrcpt == 1 && !memchr(s->firstrcpt.s, '\n', s->firstrcpt.len) &&
	    (str_cats(o, "\n\tfor <") < 0 || cat_safe(o, s->firstrcpt.s, strlen(s->firstrcpt.s), s->mp.smtputf8) < 0 ||
	    str_catc(o, '>') < 0))
		return -1;
	if (str_cats(o, "; ") < 0 || str_cats(o, date) < 0 || str_catc(o, '\n') < 0)
		return -1;
	return 0;
}
