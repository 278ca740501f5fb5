/* Fuzz PIPEMAIL_DSN parsing and the report built from it: no crash, the
 * report always ends with its closing boundary, and with no UTF-8
 * address (ORCPT) it is 7-bit, whatever the returned message holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	struct dsn_report_rcpt r[3];
	struct dsn_report d;
	struct str out = STR_INIT, sub = STR_INIT;
	char *t = malloc(size + 1);
	size_t i, idx[2] = { 2, 0 };
	int addr8 = 0;
	if (!t)
		return 0;
	memcpy(t, data, size);
	t[size] = 0;
	if (dsn_params_parse(&p, t, 3) < 0 || p.n != 3)
		abort();
	dsn_params_subset(t, idx, 2, &sub);
	for (i = 0; i < 3; i++) {
		r[i].rcpt = "a@b";
		r[i].orcpt = p.r[i].orcpt.len ? p.r[i].orcpt.s : NULL;
		r[i].action = "failed";
		r[i].status = "5.0.0";
		r[i].remote = NULL;
		r[i].diag = t;
		r[i].last = 1;
		addr8 |= r[i].orcpt && str_8bit(r[i].orcpt, strlen(r[i].orcpt));
	}
	memset(&d, 0, sizeof d);
	d.me = "me";
	d.to = "x@y";
	d.envid = p.envid.len ? p.envid.s : NULL;
	d.id = "1.2.3";
	d.r = r;
	d.n = 3;
	d.ret = p.ret;
	d.orig = t;
	d.origlen = size;
	if (dsn_report_make(&out, &d) < 0)
		abort();
	if (out.len < 4 || memcmp(out.s + out.len - 3, "--\n", 3) != 0)
		abort();
	if (!addr8 && str_8bit(out.s, out.len))
		abort();
	dsn_params_free(&p);
	str_free(&out);
	str_free(&sub);
	free(t);
	return 0;
}
