#!/bin/sh
# sendmail: in the GECOS field's full name an '&' stands for the login
# name with its first letter capitalised (BSD sendmail and Postfix read
# it so): "& Admin" of login root names the sender "Root Admin" in an
# added From:, not "& Admin". Run in a private mount namespace with a
# password file of our own bound over /etc/passwd.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
# as root, a mount namespace; else a user namespace too, where the
# process is uid 0: either way sendmail looks up uid 0
if [ "$(id -u)" = 0 ]; then ns="unshare -m --propagation private"; else ns="unshare -Urm --propagation private"; fi
$ns sh -c 'mount --bind /etc/passwd /etc/passwd' >/dev/null 2>&1 || skip_all "no private mount namespace here"
login=$(awk -F: '$3 == 0 { print $1; exit }' /etc/passwd)
[ -n "$login" ] || skip_all "no uid 0 in /etc/passwd"
cap=$(printf '%s' "$login" | cut -c1 | tr a-z A-Z)$(printf '%s' "$login" | cut -c2-)
from() { sed -n '/^$/q;/^From:/p' "$T/q/msg"; }
# one run of sendmail, uid 0's GECOS field being $1
with_gecos() {
	awk -F: -v OFS=: -v g="$1" '$3 == 0 { $5 = g } { print }' /etc/passwd > "$T/passwd"
	printf 'Subject: x\n\nb\n' | env -u NAME $ns sh -c 'mount --bind "$1" /etc/passwd && exec "$2" -f s@x.test r@x.test' \
	    sh "$T/passwd" "$BIN/sendmail"
}

with_gecos '& Admin,Room 1,555'
is "$?" 0 "GECOS '& Admin': exit 0"
is "$(from)" "From: \"$cap Admin\" <s@x.test>" "'&' is the capitalised login name"
with_gecos 'Ann & Bob &,&'
is "$(from)" "From: \"Ann $cap Bob $cap\" <s@x.test>" "each '&' before the first comma"
with_gecos 'Ann Plain,&'
is "$(from)" "From: \"Ann Plain\" <s@x.test>" "no '&': as before"
with_gecos "$(printf '%0100d' 0 | tr 0 '&')"
want=$(printf '%0300d' 0 | tr 0 '&' | sed "s/&/$cap/g" | cut -c1-256)
is "$(from)" "From: \"$want\" <s@x.test>" "many '&': cut at 256 bytes as any name"
printf 'Subject: x\n\nb\n' | NAME='& Co' $BIN/sendmail -f s@x.test r@x.test
is "$(from)" "From: \"& Co\" <s@x.test>" "NAME is taken as it is"
done_testing
