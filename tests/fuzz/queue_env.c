/* Fuzz the queue file parsers (header, envelope, state, result lines):
 * no crash, and what parses re-formats to something that parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct queue_hdr h, h2;
	struct queue_env e = QUEUE_ENV_INIT;
	struct queue_state st = QUEUE_STATE_INIT, st2 = QUEUE_STATE_INIT;
	struct queue_result r = { 0, 0, "", STR_INIT, STR_INIT };
	struct str s = STR_INIT, s2 = STR_INIT;
	char b[QUEUE_HDR_LEN];
	size_t i;
	if (queue_hdr_parse(in, size, &h) == 0) {
		/* the canonical form is never longer than what parsed */
		if (queue_hdr_fmt(b, &h) < 0 || queue_hdr_parse(b, sizeof b, &h2) < 0 ||
		    h.msgoff != h2.msgoff || h.msglen != h2.msglen || h.envoff != h2.envoff ||
		    h.envlen != h2.envlen || h.has_crc != h2.has_crc || h.crc != h2.crc)
			abort();
	}
	if (queue_env_parse(&e, in, size) == 0) {
		if (!e.sender || e.nrcpt < 1)
			abort();
		for (i = 0; i < e.nrcpt; i++)
			if (!e.rcpt[i][0] || strlen(e.rcpt[i]) > QUEUE_ADDR_MAX)
				abort();
	}
	/* state for 0..3 recipients, picked by the first byte */
	if (size && queue_state_parse(&st, in + 1, size - 1, data[0] % 4) == 0) {
		if (queue_state_fmt(&st, &s) < 0 || queue_state_parse(&st2, s.s, s.len, data[0] % 4) < 0 ||
		    queue_state_fmt(&st2, &s2) < 0 || s.len != s2.len || memcmp(s.s, s2.s, s.len))
			abort();
	}
	queue_result_parse(&r, in, size);
	queue_env_free(&e);
	queue_state_free(&st);
	queue_state_free(&st2);
	str_free(&s);
	str_free(&s2);
	str_free(&r.host);
	str_free(&r.text);
	return 0;
}
