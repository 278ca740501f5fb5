#!/bin/sh
# spamcheck's tokeniser seen from outside (spamcheck -k): header token
# spaces, MIME decoding (base64, quoted-printable, encoded words, charsets),
# HTML reduced to text plus features, URLs, rules, other filters' headers
# ignored, and hostile input (malformed base64, unterminated multiparts,
# 1,000-deep nesting, huge headers, NUL bytes, invalid charsets) handled
# within its bounds.
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
has() { grep -qxF "$1" "$T/tok"; }
tok() { "$SC" -k > "$T/tok" 2>"$T/err"; }

cat > "$T/m1" <<'EOF2'
From: "Jo" <jo@sender.example>
To: you@example.test
Subject: =?iso-8859-1?Q?caf=E9?= and =?UTF-8?B?b3BlbmluZw==?=
X-Spam-Status: Yes, score=99 tests=SECRETWORD
X-Bogosity: Spam, bogosecret
Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=sender.example; dkim=fail header.d=sender.example
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: base64

wcLXxwpwbGFpbnNlY3JldA==
--b
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Visible=20words</p><script>scriptsecret()</script>
<div style=3D"display:none">hidden</div><a href=3D"http://Shop.Deals.example/x">link</a>
<img src=3D"http://img.example/a.gif" alt=3D"alttext"> &amp;entity&#65;</body></html>
--b--
EOF2
tok < "$T/m1"
ok $? "tokenises a MIME message"
has "S:café" && has "S:opening"
ok $? "encoded words decoded, charset converted, in the subject space"
has "F:sender.example" && has "F:jo"
ok $? "From tokens in their own space"
has "абвг" && has "plainsecret"
ok $? "base64 koi8-r part decoded to UTF-8"
has "visible" && has "words" && has "alttext" && has "entitya"
ok $? "HTML reduced to text, alt text and entities kept"
! grep -q scriptsecret "$T/tok"
ok $? "script bodies dropped"
has "R:html-hidden" && ! grep -q '^T:' "$T/tok"
ok $? "hidden text as a feature, tag names not"
has "U:shop.deals.example" && has "U:deals.example" && has "U:img.example"
ok $? "link and image hosts as URL tokens"
has "A:spf=pass" && has "A:dkim=fail"
ok $? "Authentication-Results verdicts become evidence"
SPAMCHECK_AUTHSERV=mx.example.test tok < "$T/m1"
has "A:spf=pass"
ok $? "SPAMCHECK_AUTHSERV: our own authserv-id is trusted"
SPAMCHECK_AUTHSERV=border.example.test tok < "$T/m1"
! grep -q '^A:' "$T/tok"
ok $? "SPAMCHECK_AUTHSERV: another authserv-id is not"
! grep -qi -e secretword -e bogosecret -e '^H:x-spam' -e '^H:x-bogosity' "$T/tok"
ok $? "X-Spam-* and X-Bogosity are not evidence"
has "R:no-date" && has "R:no-msgid"
ok $? "structural rules"

# hostile input
{ printf 'Subject: deep\n'; i=0; while [ $i -lt 1000 ]; do
	printf 'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n' $i $i; i=$((i + 1)); done
	printf '\ndeepword\n'; } > "$T/deep"
tok < "$T/deep"
ok $? "1,000-deep nesting"
has "R:mime-anomaly"
ok $? "reported as a MIME anomaly"
printf 'Subject: x\nContent-Type: multipart/mixed; boundary=z\n\n--z\n\nunterminatedword\n' | tok
ok $? "unterminated multipart"
has "unterminatedword"
ok $? "its text still counts"
printf 'Subject: x\nContent-Transfer-Encoding: base64\n\nYmFk!!!\nd29y ZA==\n====garbage' | tok
ok $? "malformed base64"
printf 'Subject: x\nContent-Type: text/plain; charset="no-such-charset"\n\nna\303\257ve caf\351\n' | tok
ok $? "invalid charset"
has "naïve" && has "café"
ok $? "invalid charset read as UTF-8 or windows-1252"
printf 'Subject: nul\000byte\n\nbody\000with\000nuls here\n' | tok
ok $? "NUL bytes"
has "here"
ok $? "text after NULs still read"
{ printf 'Subject: '; i=0; while [ $i -lt 20000 ]; do printf 'word%d\n ' $i; i=$((i + 1)); done
  i=0; while [ $i -lt 20000 ]; do printf '\nX-H%d: v' $i; i=$((i + 1)); done; printf '\n\nbodyword\n'; } > "$T/huge"
tok < "$T/huge"
ok $? "huge header (20,000 folded lines, 20,000 fields)"
has "bodyword"
ok $? "the body after it still read"
[ "$(wc -l < "$T/tok")" -le 30000 ]
ok $? "token count stays bounded"
printf 'Subject: t\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' | tok
has "GTUBE"
ok $? "GTUBE recognised"
# Received: the last two hops of a longer chain (the origin, below any
# list or forwarder) are a token space of their own
printf 'Received: from list.example.org by mx.example.test\nReceived: from relay.example.net by list.example.org\nReceived: from origin.example.com by relay.example.net\nSubject: hops\n\nbody\n' > "$T/m9"
tok < "$T/m9"
has "Rh:list.example.org" && has "Rh:mx.example.test" && has "Ro:origin.example.com" && has "Ro:relay.example.net" && ! has "Rh:origin.example.com"
ok $? "Received hosts: relays Rh:, the origin's two hops Ro:"
printf 'Received: from a.example.com by b.example.net\nReceived: from c.example.com by d.example.net\nSubject: two\n\nbody\n' | tok
has "Rh:a.example.com" && has "Rh:c.example.com" && ! has "Ro:c.example.com"
ok $? "a chain of two hops has no origin space"
# software versions in Received are not hosts; an address is
printf 'Received: from a.example.com (a.example.com [192.0.2.7]) by b.example.net (8.12.5/8.12.5) with ESMTP\nSubject: v\n\nbody\n' | tok
has "Rh:192.0.2.7" && has "Rh:a.example.com" && ! has "Rh:8.12.5"
ok $? "Received: versions dropped, hosts and addresses kept"

# HTML without a Content-Type (or as text/plain) is reduced as HTML: its
# text counts, its tag and attribute names do not
printf 'Subject: h\n\n\n<html>\n<body bgcolor="#ffffff">\n<font face="Arial">Romance bottle</font>\n</body></html>\n' | tok
has "romance" && ! has "font" && ! has "bgcolor" && ! has "body"
ok $? "HTML after blank lines in an untyped body: text kept, tags dropped"

# a mailto: link's mailbox is no userinfo lure; an http one's is
printf 'Content-Type: text/html\nSubject: m\n\n<html><a href="mailto:news@list.example">write</a></html>\n' | tok
has "U:list.example" && ! has "R:url-userinfo"
ok $? "mailto: link: its domain a token, no userinfo rule"
printf 'Subject: u\n\nsee http://bank.example@evil.example/login\n' | tok
has "U:evil.example" && has "R:url-userinfo"
ok $? "http link with userinfo: the real host, and the rule"
# a text part that names no charset is read in the charset its HTML
# <meta> names, else its container's (senders label the multipart only);
# before, both were read as windows-1252 and the words were mojibake
printf 'Content-Type: text/html\nSubject: c\n\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r"></head><body>\332\304\305\323\330 text</body></html>\n' | tok
has "здесь" && has "text"
ok $? "HTML part without a charset: its <meta> charset"
printf 'Content-Type: multipart/mixed; boundary="b"; charset="koi8-r"\nSubject: c\n\n--b\nContent-Type: text/plain\n\n\332\304\305\323\330\n--b--\n' | tok
has "здесь"
ok $? "text part without a charset: its container's"
printf 'Content-Type: multipart/mixed; boundary="b"; charset="koi8-r"\nSubject: c\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\320\267\320\264\n--b--\n' | tok
has "зд"
ok $? "a part's own charset wins over its container's"
# the Date field counts by its format (spamware writes other formats than
# mail programs), never by its time
printf 'Date: Tue, 30 Jul 2002 05:52:19 -0400 (EDT)\nSubject: d\n\nbody\n' | tok
has "DS:a, 9 a 9 9:9:9 -9 (a)" && ! grep -q '2002\|05:52' "$T/tok"
ok $? "Date: its shape a token, its time not"
# a remote script's host is evidence like a link's; its body stays out
printf 'Content-Type: text/html\nSubject: s\n\n<html><script src="http://tracker.example/x.js">hiddencode()</script><p>shown</p></html>\n' | tok
has "U:tracker.example" && has "shown" && ! grep -q hiddencode "$T/tok"
ok $? "script src host a token, script body not"
# HTML entities: Latin-1 letters decoded, typographic quotes as ASCII (the
# text/plain version's words), soft hyphens and zero-width spaces dropped
printf 'Content-Type: text/html\nSubject: e\n\n<html><p>caf&eacute; Fran&ccedil;ais don&rsquo;t vi&shy;agra pr&#x200B;ice</p></html>\n' | tok
has "café" && has "français" && has "don't" && has "viagra" && has "price" && ! has "eacute" && ! has "rsquo"
ok $? "HTML entities: letters decoded, quotes as ASCII, invisible characters dropped"
printf 'Content-Type: text/html\nSubject: e\n\n<html><p>caf&eacute au lait, pr&eacutecis &notice &copy2026 na&iumlve.</p></html>\n' | tok
has "café" && has "naïve" && has "précis" && ! has "eacute" && ! has "iuml" && ! has "eacutecis"
ok $? "legacy entities without ';' decoded as browsers show them, inside a word too"
printf 'Subject: x\n\nbuy vi\302\255agra at pr\342\200\213ice\n' | tok
has "viagra" && has "price"
ok $? "UTF-8 soft hyphens and zero-width spaces do not split a word"
printf 'Subject: x\n\n\320\227\320\224\320\225\320\241\320\254 \303\200LA\n' | tok
has "здесь" && has "àla"
ok $? "Cyrillic and Latin-1 capitals lower-cased as ASCII ones are"
printf 'Subject: x\n\n\305\201\303\223D\305\271 \304\214ESKO \305\201\303\263d\305\272\n' | tok
has "łódź" && has "česko" && ! has "Łódź"
ok $? "Latin Extended-A capitals (Polish, Czech) lower-cased too"
# evidence that does not depend on vocabulary: a subject padded with
# spaces or ending in a tag of letters and digits, a From address whose
# local part runs into digits, amounts, "!!" runs, words spelt out
printf 'From: "Sales" <sales4521@shop.example>\nSubject: All Channels Free      18441\n\nSave 50%% now, only $19.99!! f r e e offer\n' | tok
has "R:subj-pad" && has "R:from-digits" && has "R:money-2" && has "R:bangs-1" && has "R:spaced-out"
ok $? "padded subject, From local part with digits, amounts, !! and spelt-out words"
printf 'From: Jo <jo@example.org>\nSubject: Financial Opportunity [eew58]\n\nhello\n' | tok
has "R:subj-tag" && has "R:money-0" && ! has "R:subj-pad" && ! has "R:from-digits" && ! grep -q '^R:bangs' "$T/tok"
ok $? "a tag at the subject's end; none of the others in plain mail"
{ printf 'From: r2d2 <r2d2@example.org>\nSubject: Re: RPM 4.1 for RH8\n\nIt costs $5 in total, a b c.\n'
	i=0; while [ $i -lt 20 ]; do printf 'The build works here with the usual options.\n'; i=$((i + 1)); done; } | tok
! has "R:subj-tag" && ! has "R:from-digits" && has "R:money-1" && ! has "R:spaced-out"
ok $? "a version, a short name with digits, three letters in a row are no such evidence; one amount in a long text is few"
# Reply-To on a site the message names nowhere else
printf 'From: "Admin" <admin@urda.example.ie>\nTo: ilug@linux.example\nReply-To: biz@yandex.example\nSubject: x\n\nhello\n' | tok
has "R:replyto-foreign"
ok $? "Reply-To on a site that neither From nor any recipient names"
printf 'From: jo@mail.example.org\nTo: list@lists.example.net\nReply-To: "The list" <list@other.example.net>\nSubject: x\n\nhi\n' | tok
! has "R:replyto-foreign"
ok $? "Reply-To at a recipient's site (a list) is no such evidence"
printf 'From: Shop <news@mail.shop.example>\nTo: you@example.com\nReply-To: <help@www.shop.example>\nSubject: x\n\nhi\n' | tok
! has "R:replyto-foreign"
ok $? "Reply-To at another host of the sender's site is no such evidence"
printf 'From: Shop <news@shop.example>\nTo: you@example.com\nList-Post: <mailto:list@lists.example>\nReply-To: list@lists.example\nSubject: x\n\nhi\n' | tok
! has "R:replyto-foreign"
ok $? "Reply-To to the List-Post site is no such evidence"
done_testing
