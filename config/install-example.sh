#!/bin/sh
# install-example.sh SRC DEST — meson install script: the example configuration goes to DEST (under
# $DESTDIR) only if nothing is there yet, so an operator's /etc/ferry/ferry.json is never replaced.
set -eu
dest="${DESTDIR:-}$2"
if [ -e "$dest" ]; then
	echo "Keeping $dest (not replaced by the example $1)"
else
	install -D -m 0644 "$1" "$dest"
	echo "Installing $1 to $dest"
fi
