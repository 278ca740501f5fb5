#!/bin/sh
# sendmail: the full name in an added From: comes from -F, else from the
# NAME environment variable (as Postfix's sendmail and qmail-inject take
# it; MUAs and users set it), else from the password file's GECOS field.
. "$(dirname "$0")/lib.sh"
sendmail_fakeq
me=$(id -un)
from() { sed -n '/^$/q;/^From:/p' "$T/q/msg"; }

printf 'Subject: x\n\nhi\n' | NAME='Ann Example' $BIN/sendmail r@x.test
is "$(from)" "From: \"Ann Example\" <$me@host.test>" "NAME names the sender in the added From:"
printf 'Subject: x\n\nhi\n' | NAME='Ann Example' $BIN/sendmail -F 'Bob Flag' r@x.test
is "$(from)" "From: \"Bob Flag\" <$me@host.test>" "-F wins over NAME"
printf 'Subject: x\n\nhi\n' | NAME='Ann "the" \Ex' $BIN/sendmail r@x.test
is "$(from)" "From: \"Ann \\\"the\\\" \\\\Ex\" <$me@host.test>" "NAME is quoted like -F"
printf 'Subject: x\n\nhi\n' | NAME="$(printf 'Ann\nBcc: evil@x.test')" $BIN/sendmail r@x.test
is "$(from)" "From: \"AnnBcc: evil@x.test\" <$me@host.test>" "a newline in NAME adds no header line"
printf 'From: c@x.test\nSubject: x\n\nhi\n' | NAME='Ann Example' $BIN/sendmail r@x.test
is "$(from)" "From: c@x.test" "a message with its own From: keeps it"
# empty NAME: as unset (the GECOS name, or the bare address)
printf 'Subject: x\n\nhi\n' | NAME= $BIN/sendmail r@x.test
want=$(printf 'Subject: x\n\nhi\n' | env -u NAME $BIN/sendmail r@x.test >/dev/null 2>&1; from)
is "$(from)" "$want" "an empty NAME is as if unset"
done_testing
