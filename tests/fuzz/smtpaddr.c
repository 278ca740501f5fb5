/* libFuzzer target for lib/smtpaddr: paths under every flag combination,
 * MAIL and RCPT parameters, xtext and UTF-8 checks. Invariants: no crash,
 * and an accepted path is NUL-terminated, within its limit, with no CR,
 * LF or NUL in it; an address as a line field (smtpaddr_field*) is one
 * field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtpaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct smtpaddr a = { STR_INIT, 0, 0, 0 };
	struct smtp_mailparams mp = { 0, 0, 0, 0, 0, STR_INIT, 0 };
	struct smtp_rcptparams rp = { 0, STR_INIT };
	int flags;
	for (flags = 0; flags < 8; flags++) {
		size_t used = 0;
		if (smtpaddr_path(s, size, flags, &a, &used) == SMTPADDR_OK) {
			if (used > size || a.addr.len > SMTPADDR_PATH_MAX + 16 || a.addr.s[a.addr.len] != 0 ||
			    memchr(a.addr.s, '\r', a.addr.len) || memchr(a.addr.s, '\n', a.addr.len) ||
			    memchr(a.addr.s, 0, a.addr.len) || a.at > a.addr.len)
				abort();
			if (!(flags & SMTPADDR_UTF8) && a.utf8)
				abort();
			(void)smtpaddr_local_routing(&a);
			(void)smtpaddr_mail_params(s + used, size - used, &mp);
			(void)smtpaddr_rcpt_params(s + used, size - used, flags & 1, &rp);
		}
	}
	(void)smtpaddr_mail_params(s, size, &mp);
	(void)smtpaddr_rcpt_params(s, size, 1, &rp);
	(void)smtpaddr_xtext_ok(s, size);
	(void)smtpaddr_utf8_ok(s, size);
	{
		/* a line field: a good address is one whole field, and so is
		 * any address as a result line prints it */
		struct str f = STR_INIT;
		size_t fl = smtpaddr_field(s, size);
		if (fl > size || (smtpaddr_field_ok(s, size) && fl != size))
			abort();
		if (smtpaddr_field_put(&f, s, size) < 0 || f.len != size || smtpaddr_field(f.s, f.len) != f.len ||
		    (f.len && !smtpaddr_field_ok(f.s, f.len) && (memchr(f.s, ' ', f.len) || memchr(f.s, '\n', f.len))))
			abort();
		str_free(&f);
	}
	smtpaddr_free(&a);
	smtpaddr_mail_params_free(&mp);
	smtpaddr_rcpt_params_free(&rp);
	return 0;
}
