/* Fuzz the routes line parser and matcher: no crash; a parsed route has
 * a sane port, a host of host characters, credentials only with a host. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str dom = STR_INIT;
	struct route r;
	int p;
	route_init(&r);
	p = routes_parse((const char *)data, size, &dom, &r);
	if (p == 1) {
		if (r.port > 65535 || dom.len == 0)
			abort();
		if (r.user.len && (!r.host.len || !r.pass.len))
			abort();
		if (r.host.s && strlen(r.host.s) != r.host.len)
			abort();
		(void)routes_match(dom.s, "a.example.org");
		(void)routes_match(dom.s, "");
	}
	route_free(&r);
	str_free(&dom);
	return 0;
}
