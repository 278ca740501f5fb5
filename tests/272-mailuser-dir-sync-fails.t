#!/bin/sh
# THREATS I3/I12: mailuser when fsync of the control directory fails
# (EIO) after a new NAME.cdb was renamed into place. The change is done
# then: the servers read the new database, whole; only its name may not
# survive a crash. Exit 111 still (0 means done for good, and an I/O
# failure is temporary), but the message said "unable to update users",
# as if nothing had changed, and an admin who ran the add again was
# refused (a duplicate). It says now that the change is made and in use,
# that a crash may undo it, and that mailuser rebuild (which syncs again)
# makes it last. A failure of the sync before the database's rename (the
# text file's) leaves the database in use the old one, but the text holds
# the change (an add again was refused as a duplicate, and the message said
# only "unable to update"): it says so, and that a rebuild puts it in use.
# strace's fault injection, on the directory's fsyncs only (-P).
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null || skip_all "strace unusable here"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"
"$M" domain add example.test || skip_all "mailuser domain add failed"
echo pw-one | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/a" a@example.test; ok $? "a user added"

dirsync_fails() { # dirsync_fails N ARGS...: the Nth fsync of the control directory gets EIO
	n=$1
	shift
	strace -o /dev/null -P "$C" -e trace=fsync -e inject=fsync:error=EIO:when=$n "$M" "$@"
}
in_place() { # in_place ERRFILE TABLE NAME
	grep -q "^mailuser: fatal: unable to sync $C after $2.cdb went into place: Input/output error; the change is made and in use, but a crash may undo it: run mailuser rebuild\$" "$1"
	ok $? "$3: says the change is made, that a crash may undo it, and what to run ($(cat "$1"))"
}
no_tmp() { # no_tmp NAME
	is "$(ls "$C" | grep -c tmp)" 0 "$1: no temporary file left"
}

# the second sync of the directory: after NAME.cdb's rename (the first
# follows the text's)
echo pw-two | dirsync_fails 2 add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/b" b@example.test 2>"$T/err"
is "$?" 111 "add, directory sync after users.cdb EIO: exit 111"
in_place "$T/err" users "add"
"$M" check b@example.test | grep -q '^user b@example.test '; ok $? "add: the new user in use"
no_tmp add

echo pw-three | dirsync_fails 2 passwd a@example.test 2>"$T/err"
is "$?" 111 "passwd, directory sync after users.cdb EIO: exit 111"
in_place "$T/err" users "passwd"
no_tmp passwd

dirsync_fails 2 alias add c@example.test a@example.test 2>"$T/err"
is "$?" 111 "alias add, directory sync after aliases.cdb EIO: exit 111"
in_place "$T/err" aliases "alias add"
"$M" check c@example.test | grep -q '^alias c@example.test'; ok $? "alias add: the new alias in use"
no_tmp "alias add"

# rebuild renames no text: its first directory sync follows users.cdb
# (users go first, domains last); the other two still go into place
echo "r@example.test: a@example.test" >>"$C/aliases"
dirsync_fails 1 rebuild 2>"$T/err"
is "$?" 111 "rebuild, directory sync after users.cdb EIO: exit 111"
in_place "$T/err" users "rebuild"
"$M" check r@example.test | grep -q '^alias r@example.test'; ok $? "rebuild: aliases in place after users' failed sync"
no_tmp rebuild

# the text's sync failing: the database not yet renamed, the old one in use
echo pw-four | dirsync_fails 1 add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/d" d@example.test 2>"$T/err"
is "$?" 111 "add, directory sync after the text's rename EIO: exit 111"
grep -q "^mailuser: fatal: unable to sync $C after users went into place: Input/output error; the text holds the change but the servers do not see it yet: run mailuser rebuild\$" "$T/err"
ok $? "add, text's sync: the text holds the change, run rebuild ($(cat "$T/err"))"
echo pw-four | "$M" add -u "$MAILUID" -g "$MAILGID" -d "$T/mail/d" d@example.test 2>/dev/null
is "$?" 100 "add again: refused, the text has the user (as the message said)"
"$M" check d@example.test >/dev/null 2>&1
is "$?" 100 "add, text's sync: users.cdb the old one (the user not in it)"
no_tmp "add, text's sync"

"$M" rebuild; ok $? "rebuild with fsync working: exit 0"
"$M" check d@example.test | grep -q '^user d@example.test '; ok $? "the rebuild takes the text ahead of the database"
done_testing
