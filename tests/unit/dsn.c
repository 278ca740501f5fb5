/* Unit tests for lib/dsn: parameters, xtext, subsets, the report. */
#include <string.h>
#include "dsn.h"
#include "tap.h"

int
main(void)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	struct str s = STR_INIT;
	struct dsn_report_rcpt r[1];
	struct dsn_report d;
	const char *text = "RET=HDRS ENVID=ab+2Bc\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y\nNOTIFY=NEVER\n\n";
	size_t idx[2] = { 1, 0 };

	ok(dsn_params_parse(&p, text, 4) == 0 && p.n == 4, "parse");
	is_int(p.ret, DSN_RET_HDRS, "RET=HDRS");
	is_str(p.envid.s, "ab+2Bc", "ENVID kept encoded");
	is_int(p.r[0].notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "NOTIFY list");
	is_str(p.r[0].orcpt.s, "rfc822;x+40y", "ORCPT");
	ok(dsn_wants(&p, 0, DSN_NOTIFY_FAILURE) && !dsn_wants(&p, 0, DSN_NOTIFY_DELAY), "explicit NOTIFY");
	ok(!dsn_wants(&p, 1, DSN_NOTIFY_FAILURE), "NEVER");
	ok(dsn_wants(&p, 2, DSN_NOTIFY_FAILURE) && dsn_wants(&p, 2, DSN_NOTIFY_DELAY), "default: failure and delay");
	ok(dsn_wants(&p, 3, DSN_NOTIFY_FAILURE), "missing line: default");
	ok(dsn_params_parse(&p, NULL, 2) == 0 && p.ret == DSN_RET_NONE && p.r[1].notify == 0, "no parameters");
	ok(dsn_params_parse(&p, "RET=BOGUS FOO=1\nNOTIFY=BOGUS\n", 1) == 0 && p.ret == 0, "unknown words ignored");

	is_int((int)dsn_rcpt_notify(" notify=success,Delay ORCPT=rfc822;a", 36), DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY,
	    "one recipient's NOTIFY, any case");
	is_int((int)dsn_rcpt_notify(" ORCPT=rfc822;a", 15), 0, "none given");
	is_int((int)dsn_rcpt_notify(NULL, 0), 0, "nothing at all");

	ok(dsn_params_subset(text, idx, 2, &s) == 0, "subset");
	is_str(s.s, "RET=HDRS ENVID=ab+2Bc\nNOTIFY=NEVER\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y\n", "subset lines in order");
	ok(dsn_params_subset("", idx, 2, &s) == 0 && s.len == 0, "empty stays empty");

	/* a forward's copy: SUCCESS kept for one target only, else dropped (NEVER if nothing is left) */
	ok(dsn_params_forward(text, 0, "a@x", 1, 1, &s) == 0, "forward to one");
	is_str(s.s, "RET=HDRS ENVID=ab+2Bc\nNOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y\n", "all passed on");
	ok(dsn_params_forward(text, 0, "a@x", 2, 0, &s) == 0, "forward to two");
	is_str(s.s, "RET=HDRS ENVID=ab+2Bc\nNOTIFY=FAILURE ORCPT=rfc822;x+40y\nNOTIFY=FAILURE ORCPT=rfc822;x+40y\n",
	    "SUCCESS dropped, a line each");
	ok(dsn_params_forward("\nNOTIFY=SUCCESS\n", 0, "a+b=c@x", 1, 0, &s) == 0, "SUCCESS alone");
	is_str(s.s, "\nNOTIFY=NEVER ORCPT=rfc822;a+2Bb+3Dc@x\n", "NEVER, ORCPT made from the address in xtext");
	ok(dsn_params_forward(NULL, 1, "b@x", 1, 1, &s) == 0, "no parameters at all");
	is_str(s.s, "\nORCPT=rfc822;b@x\n", "only the ORCPT");
	ok(dsn_params_forward("\n\nNOTIFY=DELAY\n", 1, "\xc3\xa9@x", 1, 1, &s) == 0, "a UTF-8 address");
	is_str(s.s, "\nNOTIFY=DELAY\n", "no rfc822 ORCPT made of it");
	ok(dsn_params_forward(NULL, 0, "\"a b+c\"@x", 1, 1, &s) == 0, "a quoted local part with a blank");
	is_str(s.s, "\nORCPT=rfc822;\"a+20b+2Bc\"@x\n", "its ORCPT in xtext, the blank as +20");
	ok(dsn_params_forward(NULL, 0, "\"a\tb\"@x", 1, 1, &s) == 0, "a control byte");
	is_str(s.s, "\n\n", "no ORCPT made of it");

	ok(dsn_xtext_decode("a+2Bb+3D+4", 10, &s) == 0, "xtext");
	is_str(s.s, "a+b=+4", "xtext decoded, bad escape kept");
	ok(dsn_xtext_decode("a+0Db", 5, &s) == 0 && strcmp(s.s, "ab") == 0, "control byte dropped");

	r[0].rcpt = "u@example.org";
	r[0].orcpt = "rfc822;U+40example.org";
	r[0].action = "failed";
	r[0].status = "5.1.1";
	r[0].remote = "mx.example.org";
	r[0].diag = "550 5.1.1 no such user";
	r[0].last = 1700000000;
	memset(&d, 0, sizeof d);
	d.me = "mx.test";
	d.to = "sender@test";
	d.envid = "E+2B1";
	d.id = "1.2.3";
	d.arrival = 1700000000;
	d.now = 1700000100;
	d.r = r;
	d.n = 1;
	d.ret = DSN_RET_HDRS;
	d.orig = "Subject: x\n\nsecret\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0, "report");
	ok(strstr(s.s, "Content-Type: multipart/report; report-type=delivery-status;") != NULL, "multipart/report");
	ok(strstr(s.s, "\nOriginal-Envelope-Id: E+1\n") != NULL, "envelope id decoded");
	ok(strstr(s.s, "\nOriginal-Recipient: rfc822;U@example.org\nFinal-Recipient: rfc822; u@example.org\n"
	    "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.org\n") != NULL, "per-recipient fields");
	ok(strstr(s.s, "Content-Type: text/rfc822-headers\n\nSubject: x\n\n") != NULL && !strstr(s.s, "secret"),
	    "RET=HDRS: headers only");
	ok(strstr(s.s, "Date: Tue, 14 Nov 2023 22:15:00 +0000\n") != NULL, "Date");
	d.ret = DSN_RET_NONE;
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "message/rfc822\n\nSubject: x\n\nsecret\n") != NULL,
	    "no RET: small message returned whole");
	/* a peer's reply in UTF-8 must not make a 7-bit report 8-bit (RFC 3464
	 * text is US-ASCII; an 8-bit report fails at a peer without 8BITMIME) */
	r[0].diag = "550 5.1.1 Benutzer \xc3\xbc unbekannt";
	d.ret = DSN_RET_HDRS;
	ok(dsn_report_make(&s, &d) == 0, "report with an 8-bit reply");
	{
		size_t k, high = 0;
		for (k = 0; k < s.len; k++)
			high += (unsigned char)s.s[k] >= 0x80;
		ok(high == 0, "no 8-bit byte in the report");
		ok(strstr(s.s, "\nDiagnostic-Code: smtp; 550 5.1.1 Benutzer ?? unbekannt\n") != NULL,
		    "8-bit bytes of the reply shown as '?'");
	}
	/* diagnostic-type smtp only for an SMTP reply (RFC 3464 2.3.6) */
	r[0].diag = "no such user here";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nDiagnostic-Code: X-Pipemail; no such user here\n") != NULL,
	    "a local failure's text is not typed smtp");
	ok(strstr(s.s, "\n<u@example.org>: while talking to mx.example.org: no such user here\n") != NULL &&
	    !strstr(s.s, " said: "), "nor is it what the host said");
	r[0].diag = "421-4.4.2 gone";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nDiagnostic-Code: smtp; 421-4.4.2 gone\n") != NULL &&
	    strstr(s.s, "\n<u@example.org>: mx.example.org said: 421-4.4.2 gone\n") != NULL, "an SMTP reply is, and said");
	r[0].diag = "550 5.1.1 no such user";
	/* RET=HDRS of a message with an empty header: nothing of its body */
	d.orig = "\nsecret line\n\nmore secret\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && !strstr(s.s, "secret"), "empty header: no body returned");
	d.orig = "\r\nsecret line\r\n\r\nmore secret\r\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && !strstr(s.s, "secret"), "empty header, CRLF: no body returned");
	/* ... nor of one without the empty line: a line that is no field
	 * starts the body, as readers show it */
	d.orig = "Subject: x\nsecret line\nFrom: y\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && !strstr(s.s, "secret") &&
	    strstr(s.s, "Content-Type: text/rfc822-headers\n\nSubject: x\n\n--") != NULL, "no separator: no body returned");
	d.orig = "Subject: x\nGr\xc3\xbc\xc3\x9f" "e\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=delivery-status;") != NULL && !str_8bit(s.s, s.len),
	    "no separator, an 8-bit body: a plain 7-bit report");
	d.orig = "Subject: x\n\nsecret\n";
	d.origlen = strlen(d.orig);
	r[0].action = "delayed";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "Subject: Delayed Mail") != NULL, "delay warning subject");
	ok(!strstr(s.s, "Will-Retry-Until"), "retries' end unknown: no Will-Retry-Until");
	d.until = 1700432000;
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nLast-Attempt-Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
	    "Will-Retry-Until: Sun, 19 Nov 2023 22:13:20 +0000\n") != NULL, "a delay names the retries' end");
	r[0].action = "failed";
	ok(dsn_report_make(&s, &d) == 0 && !strstr(s.s, "Will-Retry-Until"), "a failure does not");
	d.until = 0;
	/* an 8-bit body of ASCII mail is not returned, RET=FULL or not: the
	 * report stays 7-bit, for a peer without 8BITMIME (RFC 6152 3) */
	d.ret = DSN_RET_FULL;
	d.orig = "Subject: x\n\nGr\xc3\xbc\xc3\x9f" "e\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=delivery-status;") != NULL &&
	    strstr(s.s, "Content-Type: text/rfc822-headers\n\nSubject: x\n\n\n--") != NULL && !str_8bit(s.s, s.len) &&
	    !strstr(s.s, "8bit"), "8-bit body: headers only, a 7-bit report");
	/* RFC 6533: a UTF-8 recipient makes the report a global one */
	r[0].rcpt = "j\xc3\xbcrgen@example.org";
	ok(dsn_report_make(&s, &d) == 0, "report for a UTF-8 recipient");
	ok(strstr(s.s, "Content-Type: multipart/report; report-type=global-delivery-status;\n") != NULL,
	    "report-type global-delivery-status");
	ok(strstr(s.s, "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n") != NULL &&
	    strstr(s.s, "<j\xc3\xbcrgen@example.org>: ") != NULL, "human part in UTF-8 names the address");
	ok(strstr(s.s, "Content-Type: message/global-delivery-status\nContent-Transfer-Encoding: 8bit\n") != NULL,
	    "message/global-delivery-status");
	ok(strstr(s.s, "\nFinal-Recipient: utf-8; j\xc3\xbcrgen@example.org\n") != NULL, "Final-Recipient type utf-8");
	ok(strstr(s.s, "Content-Type: message/global\nContent-Transfer-Encoding: 8bit\n\nSubject: x\n") != NULL,
	    "original returned as message/global");
	d.ret = DSN_RET_HDRS;
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "Content-Type: message/global-headers\n\nSubject: x\n\n") != NULL,
	    "RET=HDRS: message/global-headers, 7bit");
	/* UTF-8 only in the returned header (RFC 6532): global too; an ASCII
	 * address keeps its rfc822 type */
	r[0].rcpt = "u@example.org";
	d.orig = "Subject: Gr\xc3\xbc\xc3\x9f" "e\n\nbody\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=global-delivery-status;") != NULL &&
	    strstr(s.s, "\nFinal-Recipient: rfc822; u@example.org\n") != NULL,
	    "UTF-8 header: global report, rfc822 address type");
	/* ... and 7-bit: the header in base64 (RFC 6533 6.3), the body
	 * (ASCII here) too, nothing declared 8bit */
	ok(strstr(s.s, "Content-Type: text/plain; charset=us-ascii\n\n") != NULL &&
	    strstr(s.s, "Content-Type: message/global-delivery-status\n\n") != NULL &&
	    strstr(s.s, "Content-Type: message/global-headers\nContent-Transfer-Encoding: base64\n\n"
	    "U3ViamVjdDogR3LDvMOfZQoK\n\n--") != NULL && !str_8bit(s.s, s.len) && !strstr(s.s, "8bit"),
	    "UTF-8 header, ASCII addresses: a 7-bit report, the header in base64");
	d.ret = DSN_RET_FULL;
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "Content-Type: message/global\n"
	    "Content-Transfer-Encoding: base64\n\nU3ViamVjdDogR3LDvMOfZQoKYm9keQo=\n\n--") != NULL,
	    "RET=FULL: message/global in base64");
	d.orig = "Subject: Gr\xc3\xbc\xc3\x9f" "e\n\nGr\xc3\xbc\xc3\x9f" "e, 1234567890 1234567890 1234567890 "
	    "1234567890 1234567890\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "Content-Type: message/global-headers\n"
	    "Content-Transfer-Encoding: base64\n\nU3ViamVjdDogR3LDvMOfZQoK\n\n--") != NULL && !str_8bit(s.s, s.len),
	    "8-bit header and body: the header only, in base64");
	d.orig = "Subject: Gr\xc3\xbc\xc3\x9f" "e aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n\xc3\xbc\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "base64\n\n"
	    "U3ViamVjdDogR3LDvMOfZSBhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n"
	    "YWFhYWFhYWFhYWFhYWFhYWFhYWEKCg==\n\n--") != NULL, "base64 in lines of 76");
	d.ret = DSN_RET_HDRS;
	/* a UTF-8 sender of the report */
	d.orig = "Subject: x\n\nbody\n";
	d.origlen = strlen(d.orig);
	d.to = "\xc3\xa9@test";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=global-delivery-status;") != NULL,
	    "UTF-8 report recipient: global report");
	d.to = "sender@test";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=delivery-status;") != NULL &&
	    strstr(s.s, "Content-Type: text/rfc822-headers\n\nSubject: x\n") != NULL, "ASCII again: plain report");
	/* a UTF-8 sender with an ASCII form (an IDN domain, an ASCII local
	 * part) may sit behind a peer without SMTPUTF8 or 8BITMIME: its
	 * report is 7-bit, To: in A-labels (RFC 5891), an 8-bit body left out */
	d.to = "sender@b\xc3\xbc" "cher.test";
	d.ret = DSN_RET_FULL;
	d.orig = "Subject: x\n\nGr\xc3\xbc\xc3\x9f" "e\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nTo: <sender@xn--bcher-kva.test>\n") != NULL &&
	    strstr(s.s, "report-type=delivery-status;") != NULL && !str_8bit(s.s, s.len) &&
	    strstr(s.s, "Content-Type: text/rfc822-headers\n\nSubject: x\n\n\n--") != NULL,
	    "IDN sender: a 7-bit report to its A-label form");
	d.to = "s\xc3\xa9@b\xc3\xbc" "cher.test";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nTo: <s\xc3\xa9@b\xc3\xbc" "cher.test>\n") != NULL &&
	    strstr(s.s, "report-type=global-delivery-status;") != NULL, "UTF-8 local part: no ASCII form, global");
	d.to = "sender@b\xc3\xbc" "cher..test";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nTo: <sender@b\xc3\xbc" "cher..test>\n") != NULL,
	    "a domain IDNA refuses: kept as it is");
	d.to = "sender@test";
	d.ret = DSN_RET_HDRS;
	d.orig = "Subject: x\n\nbody\n";
	d.origlen = strlen(d.orig);
	/* RFC 5322 2.1.1: no line over 998 bytes, even for an address of
	 * QUEUE_ADDR_MAX bytes and a long reply */
	{
		static char big[1001], diag[600];
		size_t k, col = 0, longest = 0;
		memset(big, 'a', 990);
		memcpy(big + 990, "@x.test", 8);
		memset(diag, 'd', sizeof diag - 1);
		memcpy(diag, "550 ", 4);
		r[0].rcpt = big;
		r[0].diag = diag;
		r[0].remote = "mx.example.org";
		d.to = big;
		ok(dsn_report_make(&s, &d) == 0, "report for a 997-byte address");
		for (k = 0; k < s.len; k++) {
			col = s.s[k] == '\n' ? 0 : col + 1;
			if (col > longest)
				longest = col;
		}
		ok(longest <= 998, "no line over 998 bytes");
		r[0].rcpt = "u@example.org";
		r[0].diag = "550 5.1.1 no such user";
		d.to = "sender@test";
	}
	/* ENVID and ORCPT xtext may decode to 8-bit bytes: a plain report's
	 * delivery-status part stays 7-bit (RFC 3464 2.1) */
	{
		const char *ds, *end;
		size_t high = 0;
		d.envid = "E+C3+A9";
		r[0].orcpt = "rfc822;+C3+A9@example.org";
		d.orig = "Subject: x\n\nbody\n";
		d.origlen = strlen(d.orig);
		ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "report-type=delivery-status;") != NULL,
		    "8-bit ENVID and ORCPT: plain report");
		ds = strstr(s.s, "message/delivery-status");
		end = ds ? strstr(ds, "\n--pipemail-") : NULL;
		for (; ds && end && ds < end; ds++)
			high += (unsigned char)*ds >= 0x80;
		ok(end && high == 0, "no 8-bit byte in message/delivery-status");
		ok(strstr(s.s, "\nOriginal-Envelope-Id: E??\n") != NULL &&
		    strstr(s.s, "\nOriginal-Recipient: rfc822;??@example.org\n") != NULL, "shown as '?'");
		d.envid = "E+2B1";
		r[0].orcpt = "rfc822;U+40example.org";
	}
	/* queue-add takes any envelope bytes: a CR or LF in an address must
	 * not start a header field or a status field of its own */
	d.to = "s@test\r\nBcc: victim@test";
	r[0].rcpt = "u@example.org\nAction: delivered";
	ok(dsn_report_make(&s, &d) == 0 && !strstr(s.s, "\nBcc:") && !strstr(s.s, "\nAction: delivered") &&
	    !strchr(s.s, '\r') && strstr(s.s, "\nTo: <s@test??Bcc: victim@test>\n") != NULL &&
	    strstr(s.s, "\nFinal-Recipient: rfc822; u@example.org?Action: delivered\n") != NULL,
	    "control bytes in addresses shown as '?'");
	d.to = "sender@test";
	r[0].rcpt = "u@example.org";
	/* a NUL byte in the returned message must not end the report: it
	 * travels as a C string, and NUL is no MIME 8bit data */
	d.ret = DSN_RET_FULL;
	d.orig = "Subject: x\n\nbefore\0after\n";
	d.origlen = 25;
	ok(dsn_report_make(&s, &d) == 0 && strlen(s.s) == s.len && strstr(s.s, "\nbefore?after\n") != NULL &&
	    strstr(s.s, "\n--pipemail-1.2.3-report--\n") != NULL, "NUL in the returned message replaced");
	/* RFC 2046 5.1.1: a returned message holding our boundary (a queue
	 * id is easy to guess) must not end the report early */
	d.orig = "Subject: x\n\n--pipemail-1.2.3-report--\n\nforged\n";
	d.origlen = strlen(d.orig);
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\tboundary=\"pipemail-1.2.3-report-") != NULL &&
	    !strstr(s.s, "\tboundary=\"pipemail-1.2.3-report\"\n"), "boundary in the original: another one");
	/* a remote host name is no place for 8-bit bytes either */
	d.orig = "Subject: x\n\nbody\n";
	d.origlen = strlen(d.orig);
	r[0].remote = "m\xc3\xbc.example.org";
	ok(dsn_report_make(&s, &d) == 0 && strstr(s.s, "\nRemote-MTA: dns; m??.example.org\n") != NULL &&
	    strstr(s.s, "<u@example.org>: m??.example.org said: ") != NULL, "8-bit host name shown as '?'");
	dsn_params_free(&p);
	str_free(&s);
	return done();
}
