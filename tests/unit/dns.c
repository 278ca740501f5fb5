/* Unit tests for dns_idna: IDNA2008 A-labels for UTF-8 names (libidn2,
 * UTS #46 mapping, non-transitional), ASCII names unchanged, malformed or
 * disallowed names refused. */
#include <string.h>
#include "dns.h"
#include "tap.h"

static void
is_idna(const char *in, const char *want, const char *name)
{
	char out[DNS_NAME_MAX + 1];
	int r = dns_idna(in, out, sizeof out);
	if (!want) {
		is_int(r, -1, name);
		return;
	}
	is_int(r, 0, name);
	is_str(r == 0 ? out : "(failed)", want, name);
}

int
main(void)
{
	char big[400], small[8];
	size_t i;
	is_idna("example.org", "example.org", "ASCII unchanged");
	is_idna("Example.ORG.", "Example.ORG", "the root dot goes, case kept");
	is_idna("caf\xc3\xa9.test", "xn--caf-dma.test", "cafe with an acute");
	is_idna("b\xc3\xbc" "cher.m\xc3\xbc" "nchen.de", "xn--bcher-kva.xn--mnchen-3ya.de", "two U-labels");
	is_idna("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "xn--r8jz45g.xn--zckzah", "Japanese");
	is_idna("\xe2\x98\x83.net", NULL, "a snowman: a symbol IDNA2008 disallows, refused");
	is_idna("CAF\xc3\x89.test", "xn--caf-dma.test", "capitals mapped to lower case (UTS #46)");
	is_idna("fa\xc3\x9f.de", "xn--fa-hia.de", "sharp s kept (non-transitional), not ss");
	is_idna("\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87",
	    "xn--ihqwcrb4cv8a8dqg056pqjye", "RFC 3492 7.1 sample (B)");
	is_idna("a-\xc3\xbc.x", "xn--a--yka.x", "a hyphen among basic code points");
	is_idna("\xf0\xa0\x80\x80x.x", "xn--x-s17s.x", "a code point past the BMP");
	is_idna("\xf0\x9d\x84\x9ex.x", NULL, "a musical symbol: disallowed, refused");
	is_idna("", NULL, "empty: refused");
	is_idna(".", NULL, "the root alone: refused");
	is_idna("a..b", NULL, "an empty label: refused");
	is_idna(".a", NULL, "a leading dot: refused");
	is_idna("a..", NULL, "an empty label before the root: refused");
	is_idna("caf\xc3.test", NULL, "UTF-8 cut short: refused");
	is_idna("caf\xc0\xa9.test", NULL, "overlong UTF-8: refused");
	is_idna("\xed\xa0\x80.test", NULL, "a surrogate: refused");
	is_idna("\xf4\x90\x80\x80.test", NULL, "past U+10FFFF: refused");
	memset(big, 'a', 63);
	strcpy(big + 63, ".test");
	is_idna(big, big, "a 63-byte label");
	memset(big, 'a', 64);
	strcpy(big + 64, ".test");
	is_idna(big, NULL, "a 64-byte label: refused");
	for (i = 0; i < 50; i++)
		memcpy(big + 2 * i, "\xc3\xbc", 2);
	strcpy(big + 100, ".test");
	is_idna(big, "xn--tdaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", "50 u-umlauts: 56 bytes");
	for (i = 0; i < 60; i++)
		memcpy(big + 2 * i, "\xc3\xbc", 2);
	strcpy(big + 120, ".test");
	is_idna(big, NULL, "60 u-umlauts: an A-label over 63 bytes, refused");
	/* 3 labels of 63 and one of 61: 253 bytes, the most; 254 is too many */
	for (i = 0; i < 3; i++) {
		memset(big + 64 * i, 'a', 63);
		big[64 * i + 63] = '.';
	}
	memset(big + 192, 'b', 61);
	big[253] = 0;
	is_idna(big, big, "a 253-byte name");
	strcpy(big + 253, "b");
	is_idna(big, NULL, "a 254-byte name: refused");
	strcpy(big + 253, ".");
	is_int(dns_idna(big, small, 0), -1, "no room at all: refused");
	is_int(dns_idna("caf\xc3\xa9", small, sizeof small), -1, "an A-label past out: refused");
	is_int(dns_idna("abcdefgh", small, sizeof small), -1, "an ASCII name past out: refused");
	is_int(dns_idna("abcdefg", small, sizeof small), 0, "an ASCII name that fits out exactly");
	return done();
}
