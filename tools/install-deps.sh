#!/bin/sh
# Install the Debian packages given as arguments, if any is missing.
# Quiet and fast when everything is there; uses sudo when not root.
set -e
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Another apt run (unattended upgrades) may hold the lock: retry a while.
i=0
until $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; do
	i=$((i + 1))
	[ $i -ge 6 ] && { echo "apt-get failed" >&2; exit 1; }
	sleep 10
done
