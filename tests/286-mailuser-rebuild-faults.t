#!/bin/sh
# THREATS I3/I11: mailuser rebuild on a full disk and with fsync failing
# EIO. The three tables are each compiled into NAME.cdb.tmp and synced
# (users, aliases, domains), and only then renamed over NAME.cdb in the
# same order, the directory synced after each: a failure before the
# renames leaves all three old databases byte for byte (the servers go on
# reading them), one after them the new ones, whole; either way mailuser
# exits 111 (a temporary problem, mailuser(8)), says which table, and
# leaves no NAME.cdb.tmp behind. The text files are edited by hand first
# (a domain, a user and an alias added), so each new database differs.
. "$(dirname "$0")/lib.sh"
M=$BIN/mailuser
C=$T/conf
export PIPEMAIL_CONF="$C"
mkdir "$C"
"$M" domain add example.test || skip_all "mailuser domain add failed"
i=0
while [ $i -lt 300 ]; do
	printf 'u%d@example.test:$6$salt$abc:%s:%s:/nonexistent/u%d:0\n' $i "$MAILUID" "$MAILGID" $i
	printf 'a%d@example.test: u%d@example.test\n' $i $i >>"$C/aliases"
	i=$((i + 1))
done >"$C/users"
"$M" rebuild; ok $? "the old databases built"
mkdir "$T/old"
cp -p "$C"/*.cdb "$T/old/"
printf 'new@example.test:$6$salt$abc:%s:%s:/nonexistent/new:0\n' "$MAILUID" "$MAILGID" >>"$C/users"
printf 'anew@example.test: new@example.test\n' >>"$C/aliases"
printf 'other.test\n' >>"$C/domains"
# the old databases, usable: an old user and alias found, the new ones not
usable_old() { # usable_old CONFDIR NAME
	PIPEMAIL_CONF=$1 "$M" check u7@example.test | grep -q '^user u7@example.test '; ok $? "$2: an old user found"
	PIPEMAIL_CONF=$1 "$M" check a7@example.test | grep -q '^alias a7@example.test'; ok $? "$2: an old alias found"
}
no_tmp() { # no_tmp CONFDIR NAME
	is "$(cd "$1" && ls | grep -c 'tmp')" 0 "$2: no temporary file left"
}

# fsync failing EIO, each of the six in turn: the first three are a
# table's file (before any rename), the last three the directory (after
# that table's rename; the others still go into place)
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	for n in 1 2 3 4 5 6; do
		table=$(echo "users aliases domains users aliases domains" | cut -d' ' -f$n)
		strace -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=$n "$M" rebuild 2>"$T/err"
		is "$?" 111 "fsync $n ($table) EIO: exit 111"
		if [ $n -le 3 ]; then
			grep -q "^mailuser: fatal: unable to compile $table: Input/output error" "$T/err"; ok $? "fsync $n: names $table and the error"
			for t in users aliases domains; do
				cmp -s "$C/$t.cdb" "$T/old/$t.cdb"; ok $? "fsync $n: the old $t.cdb as it was"
			done
		else
			# in place: the message says so (test 272)
			grep -q "^mailuser: fatal: unable to sync $C after $table.cdb went into place: Input/output error; the change is made" "$T/err"; ok $? "fsync $n: names $table and the error"
			for t in users aliases domains; do
				cmp -s "$C/$t.cdb" "$T/old/$t.cdb"; is "$?" 1 "fsync $n: $t.cdb renamed, the new one"
			done
		fi
		usable_old "$C" "fsync $n"
		no_tmp "$C" "fsync $n"
		cp -p "$T/old/"*.cdb "$C/"
	done
else
	diag "strace unusable here: EIO cases skipped"
fi

# a full disk: the control directory copied onto a tmpfs in a private
# mount namespace, filled but for one page: users.cdb (some 40 KB) does
# not fit, so none of the three changes
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	mkdir "$T/full" "$T/res"
	unshare -m --propagation private sh -c '
		F=$1 C=$2 M=$3 R=$4
		mount -t tmpfs -o size=1m,mode=755 tmpfs "$F" || exit 3
		cp -p "$C"/* "$F"/
		dd if=/dev/zero of="$F/pad" bs=4096 count=1 2>/dev/null
		dd if=/dev/zero of="$F/fill" bs=4096 2>/dev/null
		rm "$F/pad"
		PIPEMAIL_CONF=$F "$M" rebuild 2>"$R/err"; echo $? >"$R/rc"
		rm "$F/fill"
		for n in domains users aliases; do cmp -s "$F/$n.cdb" "$R/../old/$n.cdb"; echo $? >"$R/$n"; done
		PIPEMAIL_CONF=$F "$M" check u7@example.test >"$R/u7"
		PIPEMAIL_CONF=$F "$M" check a7@example.test >"$R/a7"
		PIPEMAIL_CONF=$F "$M" check new@example.test >"$R/new" 2>/dev/null; echo $? >"$R/newrc"
		ls "$F" >"$R/ls"
	' sh "$T/full" "$C" "$M" "$T/res"
	is "$?" 0 "tmpfs set up"
	is "$(cat "$T/res/rc")" 111 "disk full: exit 111"
	grep -q '^mailuser: fatal: unable to compile users: No space left' "$T/res/err"; ok $? "disk full: names users and ENOSPC"
	is "$(cat "$T/res/domains")" 0 "disk full: the old domains.cdb as it was"
	is "$(cat "$T/res/users")" 0 "disk full: the old users.cdb as it was"
	is "$(cat "$T/res/aliases")" 0 "disk full: the old aliases.cdb as it was"
	grep -q '^user u7@example.test ' "$T/res/u7"; ok $? "disk full: an old user found"
	grep -q '^alias a7@example.test' "$T/res/a7"; ok $? "disk full: an old alias found"
	is "$(cat "$T/res/newrc")" 100 "disk full: the user added by hand not yet in"
	is "$(grep -c tmp "$T/res/ls")" 0 "disk full: no temporary file left"
else
	diag "no private mount namespace as root: disk-full case skipped"
fi
# and with room again, the rebuild takes the hand edit
"$M" rebuild; ok $? "rebuild with room and working fsync: exit 0"
"$M" check new@example.test | grep -q '^user new@example.test '; ok $? "the new user found"
"$M" check anew@example.test | grep -q '^alias anew@example.test'; ok $? "the new alias found"
done_testing
