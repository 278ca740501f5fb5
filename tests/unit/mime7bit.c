/* Unit tests for mime7bit: the quoted-printable encoder (RFC 2045 6.7)
 * and the 7-bit conversion of whole messages, fed whole and in pieces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mime.h"
#include "mime7bit.h"
#include "tap.h"

static void
qp(const char *in, size_t len, size_t piece, struct str *out)
{
	struct mime7bit_qp q;
	size_t i;
	out->len = 0;
	mime7bit_qp_init(&q);
	for (i = 0; i < len; i += piece)
		if (mime7bit_qp_put(&q, in + i, len - i < piece ? len - i : piece, out) < 0)
			abort();
	if (mime7bit_qp_end(&q, out) < 0 || str_0(out) < 0)
		abort();
}

static const char *qpvec[][2] = {
	{ "caf\xc3\xa9\r\n", "caf=C3=A9\r\n" },
	{ "a \r\nb\t\n", "a=20\r\nb=09\n" },
	{ "a  b", "a  b" },
	{ "end ", "end=20" },
	{ ".\r\n.x\r\nFrom me\r\nxFrom", "=2E\r\n=2Ex\r\n=46rom me\r\nxFrom" },
	{ "1=2", "1=3D2" },
	{ "a\rb\r", "a\r\nb\r\n" },     /* a lone CR: a line end, as dotstuff makes it */
	{ "a \rb\r\r\n", "a=20\r\nb\r\n\r\n" },
	{ "\x7f\x01", "=7F=01" },
};

/* every output line within 76 characters, 7-bit, no blank before a break */
static int
qp_shape(const struct str *o)
{
	size_t i, col = 0;
	for (i = 0; i < o->len; i++) {
		unsigned char c = (unsigned char)o->s[i];
		if (c >= 0x80 || (c < 32 && c != '\r' && c != '\n' && c != '\t'))
			return 0;
		if (c == '\r' && (i + 1 == o->len || o->s[i + 1] != '\n'))
			return 0;
		if (c == '\r' || c == '\n') {
			if (i > 0 && (o->s[i - 1] == ' ' || o->s[i - 1] == '\t'))
				return 0;
			col = 0;
			continue;
		}
		if (++col > MIME7BIT_QP_LINE)
			return 0;
	}
	return !(o->len && (o->s[o->len - 1] == ' ' || o->s[o->len - 1] == '\t'));
}

/* in with each lone CR made CRLF: what the encoded text decodes to */
static void
lone_cr(const char *in, size_t len, struct str *out)
{
	size_t i;
	out->len = 0;
	for (i = 0; i < len; i++)
		if (str_catc(out, in[i]) < 0 ||
		    (in[i] == '\r' && (i + 1 == len || in[i + 1] != '\n') && str_catc(out, '\n') < 0))
			abort();
}

static void
test_qp(void)
{
	struct str o = STR_INIT, d = STR_INIT, w = STR_INIT;
	char all[1000];
	size_t i, piece;
	for (i = 0; i < sizeof qpvec / sizeof qpvec[0]; i++) {
		for (piece = 1; piece <= 7; piece += 6) {
			qp(qpvec[i][0], strlen(qpvec[i][0]), piece, &o);
			is_str(o.s, qpvec[i][1], "quoted-printable vector");
		}
	}
	memset(all, 'x', 200);
	qp(all, 200, 200, &o);
	ok(qp_shape(&o) && o.len == 200 + 2 * 3, "a 200-byte line: two soft breaks, lines of 76 at most");
	ok(o.s[75] == '=' && o.s[76] == '\r', "the first soft break after 75 characters");
	for (i = 0; i < sizeof all; i++)
		all[i] = (char)(i * 7 + i / 256);
	lone_cr(all, sizeof all, &w);
	ok(w.len > sizeof all, "lone CRs among the bytes");
	for (piece = 1; piece <= 1000; piece = piece * 3 + 1) {
		qp(all, sizeof all, piece, &o);
		d.len = 0;
		ok(qp_shape(&o) && mime_qp_decode(&d, o.s, o.len, 0) == 0 && d.len == w.len &&
		    memcmp(d.s, w.s, w.len) == 0, "every byte value round trip (a lone CR as CRLF), in pieces");
	}
	/* a line's tail after a soft break is no delimiter line: its "-" encoded */
	memset(all, 'x', 75);
	memcpy(all + 75, "--q\r\n-x", 7);
	qp(all, 82, 82, &o);
	ok(o.len == 75 + 12 && memcmp(o.s + 75, "=\r\n=2D-q\r\n-x", 12) == 0, "a \"-\" after a soft break encoded, not one starting a line");
	memset(all, ' ', 300);
	qp(all, 300, 13, &o);
	d.len = 0;
	ok(qp_shape(&o) && mime_qp_decode(&d, o.s, o.len, 0) == 0 && d.len == 300, "300 blanks kept");
	str_free(&o);
	str_free(&d);
	str_free(&w);
}

/* both passes, the second fed in pieces; -1 when conversion is impossible */
static int
conv(const char *in, size_t piece, struct str *out, int *changed)
{
	struct mime7bit a, b;
	size_t i, len = strlen(in);
	out->len = 0;
	mime7bit_init(&a, NULL);
	for (i = 0; i < len; i += piece)
		if (mime7bit_put(&a, in + i, len - i < piece ? len - i : piece, NULL) < 0)
			abort();
	if (mime7bit_end(&a, NULL) < 0)
		abort();
	if (a.impossible) {
		mime7bit_free(&a);
		return -1;
	}
	mime7bit_init(&b, &a);
	for (i = 0; i < len; i += piece)
		if (mime7bit_put(&b, in + i, len - i < piece ? len - i : piece, out) < 0)
			abort();
	if (mime7bit_end(&b, out) < 0 || str_0(out) < 0)
		abort();
	*changed = b.changed;
	mime7bit_free(&a);
	mime7bit_free(&b);
	return 0;
}

static const struct {
	const char *name, *in, *out;   /* out NULL: impossible; "=" the same */
} cases[] = {
	{ "a 7-bit message goes as it is", "Subject: x\r\n\r\nhello\r\n", "=" },
	{ "a plain 8-bit message: MIME-Version and CTE added, body encoded",
	  "Subject: x\r\n\r\ncaf\xc3\xa9 \r\n.\r\n",
	  "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9=20\r\n=2E\r\n" },
	{ "an 8bit CTE replaced, other fields kept, LF line ends kept",
	  "MIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\nX-A: b\n\n\xe9\n",
	  "MIME-Version: 1.0\nX-A: b\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\n=E9\n" },
	{ "8-bit header bytes stay, a 7-bit body too",
	  "Subject: caf\xc3\xa9\r\n\r\nhello\r\n", "=" },
	{ "multipart: the 8-bit part encoded, the base64 one and the 8bit label of the container made 7bit",
	  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b=1\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	  "pre\r\n--b=1\r\nContent-Type: text/plain\r\n\r\n\xe9t\xe9 \r\n--b=1\r\nContent-Type: image/png\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b=1--\r\nepi\r\n",
	  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b=1\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
	  "pre\r\n--b=1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9t=E9=20\r\n"
	  "--b=1\r\nContent-Type: image/png\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b=1--\r\nepi\r\n" },
	{ "a binary part: base64, the delimiter's line end not in it",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Transfer-Encoding: binary\r\n\r\n\xff\r\n--q--\r\n",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: base64\r\n\r\n/w==\r\n--q--\r\n" },
	{ "message/rfc822: the message inside converted",
	  "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: in\r\n\r\n\xe9\r\n",
	  "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: in\r\n"
	  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n" },
	{ "an unterminated inner multipart ends at the outer delimiter",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\n\r\n\xe9\r\n--o\r\n\r\n\xe9\r\n--o--\r\n",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	  "--i\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--o\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--o--\r\n" },
	{ "8-bit bytes in a preamble: impossible",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n\xe9\r\n--q\r\n\r\nx\r\n--q--\r\n", NULL },
	{ "8-bit bytes in a part sent base64: impossible",
	  "Content-Transfer-Encoding: base64\r\n\r\n\xe9\r\n", NULL },
	{ "8-bit bytes in a message/partial: impossible",
	  "Content-Type: message/partial; id=x; number=1\r\n\r\n\xe9\r\n", NULL },
	{ "a delimiter with transport padding; no header in the part",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q \t\r\n\r\n\xe9\r\n--q--",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q \t\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--q--" },
	{ "a header without a body", "Subject: x", "=" },
	/* RFC 6532 3.7, RFC 6533: the global-* message types may be encoded */
	{ "message/global-delivery-status 8bit: quoted-printable",
	  "Content-Type: multipart/report; report-type=global-delivery-status; boundary=r\r\n\r\n"
	  "--r\r\nContent-Type: message/global-delivery-status\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	  "Final-Recipient: utf-8; j\xc3\xb6rg@x.test\r\nAction: failed\r\n--r--\r\n",
	  "Content-Type: multipart/report; report-type=global-delivery-status; boundary=r\r\n\r\n"
	  "--r\r\nContent-Type: message/global-delivery-status\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "=46inal-Recipient: utf-8; j=C3=B6rg@x.test\r\nAction: failed\r\n--r--\r\n" },
	{ "message/global-headers, no CTE: quoted-printable",
	  "Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: message/global-headers\r\n\r\n"
	  "Subject: caf\xc3\xa9\r\n\r\n--r--\r\n",
	  "Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: message/global-headers\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nSubject: caf=C3=A9\r\n\r\n--r--\r\n" },
	{ "message/global 8bit, its type in capitals: quoted-printable, the message inside not entered",
	  "Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: Message/Global\r\n"
	  "Content-Transfer-Encoding: 8BIT\r\n\r\nSubject: \xc3\xa9\r\nContent-Type: text/plain\r\n\r\n.\xc3\xa9 \r\n--r--\r\n",
	  "Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: Message/Global\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nSubject: =C3=A9\r\nContent-Type: text/plain\r\n\r\n=2E=C3=A9=20\r\n--r--\r\n" },
	{ "message/global-disposition-notification binary: base64",
	  "Content-Type: message/global-disposition-notification\r\nContent-Transfer-Encoding: binary\r\n\r\n"
	  "Final-Recipient: utf-8; \xc3\xa9@x\r\n",
	  "Content-Type: message/global-disposition-notification\r\nMIME-Version: 1.0\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nRmluYWwtUmVjaXBpZW50OiB1dGYtODsgw6lAeA0K\r\n" },
	{ "message/global holding a multipart with 8-bit bytes in its preamble: encoded whole, its delimiters bytes",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/global\r\n\r\n"
	  "Content-Type: multipart/mixed; boundary=i\r\n\r\n\xe9\r\n--i\r\n\r\nx\r\n--i--\r\n--o--\r\n",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/global\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "Content-Type: multipart/mixed; boundary=3Di\r\n\r\n=E9\r\n--i\r\n\r\nx\r\n--i--\r\n--o--\r\n" },
	{ "message/global inside a message/rfc822 inside a multipart: encoded",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Subject: fwd\r\nContent-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: message/global\r\n\r\n"
	  "Subject: \xe9\r\n--r--\r\n--o--\r\n",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Subject: fwd\r\nContent-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: message/global\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nSubject: =E9\r\n--r--\r\n--o--\r\n" },
	{ "a 7-bit message/global goes as it is",
	  "Content-Type: message/global\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: x\r\n\r\ny\r\n", "=" },
	{ "a message/global already base64 is left alone",
	  "Content-Type: multipart/report; boundary=r\r\n\r\n--r\r\nContent-Type: message/global\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogw6kNCg==\r\n--r--\r\n", "=" },
	{ "8-bit bytes in a message/global-headers already quoted-printable: impossible",
	  "Content-Type: message/global-headers\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSubject: \xe9\r\n", NULL },
	{ "a message/rfc822 is never encoded: 8-bit bytes in a preamble inside it are impossible",
	  "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Content-Type: multipart/mixed; boundary=i\r\n\r\n\xe9\r\n--i\r\n\r\nx\r\n--i--\r\n--o--\r\n", NULL },
	{ "8-bit bytes in a message/rfc822 marked base64 (RFC 2046 5.2.1 forbids it): impossible",
	  "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nSubject: x\r\n\r\n\xe9\r\n", NULL },
	{ "a message type whose name only starts as a global one is not encoded: impossible",
	  "Content-Type: message/global-x\r\n\r\n\xe9\r\n", NULL },
	/* a lone CR is a line end on the wire (dotstuff.h): the structure is the one the peer sees */
	{ "a delimiter after a lone CR starts a part",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nx\r--q\r\nContent-Type: text/plain\r\n\r\n\xe9\r\n--q--\r\n",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nx\r--q\r\nContent-Type: text/plain\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--q--\r\n" },
	{ "a header field after a lone CR is one (the CR held as CRLF, as the wire has it)",
	  "Subject: x\rContent-Type: text/plain; charset=utf-8\r\n\r\n\xe9\r\n",
	  "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\nMIME-Version: 1.0\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n" },
	/* a message/rfc822 header ended by a line that is no field: the message inside has an empty one */
	{ "fields added inside a message/rfc822 whose header has no empty line after it: the empty line first",
	  "Content-Type: message/rfc822\r\nhi \xe9\r\n",
	  "Content-Type: message/rfc822\r\n\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\nhi =E9\r\n" },
	{ "the same for a digest's part with no header",
	  "Content-Type: multipart/digest; boundary=q\r\n\r\n--q\r\nhi \xe9\r\n--q--\r\n",
	  "Content-Type: multipart/digest; boundary=q\r\n\r\n--q\r\n\r\nMIME-Version: 1.0\r\n"
	  "Content-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\nhi =E9\r\n--q--\r\n" },
	{ "8-bit bytes after a close delimiter that follows a lone CR: the epilogue, impossible",
	  "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nx\r--q--\r\n\xe9\r\n", NULL },
};

static void
test_convert(void)
{
	struct str o = STR_INIT, w = STR_INIT;
	size_t i, piece;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int changed = -1, r = conv(cases[i].in, 100000, &w, &changed);
		if (!cases[i].out) {
			ok(r < 0, cases[i].name);
			continue;
		}
		if (!strcmp(cases[i].out, "=")) {
			ok(r == 0 && !changed, cases[i].name);
			is_str(w.s, cases[i].in, "unchanged");
		} else {
			ok(r == 0 && changed, cases[i].name);
			is_str(w.s, cases[i].out, "converted");
		}
		for (piece = 1; piece < 8; piece++)
			if (conv(cases[i].in, piece, &o, &changed) < 0 || o.len != w.len || memcmp(o.s, w.s, w.len))
				break;
		ok(piece == 8, "the same, fed in pieces");
	}
	str_free(&o);
	str_free(&w);
}

/* a line past the line buffer, and a header past its limit */
static void
test_long(void)
{
	struct str in = STR_INIT, o = STR_INIT, d = STR_INIT;
	size_t i;
	int changed;
	str_copys(&in, "Subject: x\r\n\r\n");
	for (i = 0; i < 5000; i++)
		str_catc(&in, i % 100 ? (char)0xe9 : ' ');
	str_cats(&in, "\r\n");
	str_0(&in);
	ok(conv(in.s, 777, &o, &changed) == 0 && changed, "a 5000-byte 8-bit line converts");
	{
		const char *b = strstr(o.s, "\r\n\r\n") + 4;
		ok(mime_qp_decode(&d, b, strlen(b), 0) == 0 && d.len == 5002 && memcmp(d.s, in.s + 14, 5002) == 0,
		    "and decodes to itself");
	}
	str_copys(&in, "");
	for (i = 0; i < MIME7BIT_HEADER_MAX / 10 + 1; i++)
		str_cats(&in, "X-A: abcd\r\n");
	str_cats(&in, "\r\n\xe9\r\n");
	str_0(&in);
	ok(conv(in.s, 4096, &o, &changed) < 0, "a header past the limit: its body is not read, impossible");
	/* the peer must not find a delimiter the soft break made */
	str_copys(&in, "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n\xe9");
	for (i = 0; i < 72; i++)
		str_catc(&in, 'x');
	str_cats(&in, "--q\r\n--q--\r\n");
	str_0(&in);
	ok(conv(in.s, 100, &o, &changed) == 0 && changed && strstr(o.s, "=\r\n=2D-q\r\n--q--\r\n") &&
	    !strstr(o.s, "\n--q\r\n--q--"), "a boundary at a long line's end stays in the text");
	str_free(&in);
	str_free(&o);
	str_free(&d);
}

int
main(void)
{
	test_qp();
	test_convert();
	test_long();
	return done();
}
