#!/usr/bin/env bash
# duckdb.sh installs DuckDB's Node.js client (the npm package
# @duckdb/node-api, which bundles DuckDB) into a cache folder. The analytics
# sink's test (TestDuckDB) reads the sink's Parquet files back with it: a
# Parquet reader independent of the one that wrote them.
#
#   duckdb.sh install     install if needed; print the node_modules folder
#                         (for NODE_PATH)
#
# Environment:
#   DUCKDB_CACHE   cache folder; default ${XDG_CACHE_HOME:-$HOME/.cache}/sluice/duckdb
#
# Needs node and npm. When either is missing the script says so on stderr
# and exits with status 2; when the installation fails, with status 1. Only
# the node_modules folder goes to stdout.
set -euo pipefail

# The pinned package version (`npm view @duckdb/node-api version`); it
# bundles DuckDB 1.5.6.
readonly VERSION=1.5.6-r.1

readonly CACHE="${DUCKDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/duckdb}"
readonly PKG="$CACHE/node_modules/@duckdb/node-api"

# die reports a missing tool: the caller skips.
die() {
	echo "duckdb.sh: $*" >&2
	exit 2
}

# fail reports a failed installation: the caller fails.
fail() {
	echo "duckdb.sh: $*" >&2
	exit 1
}

installed_version() {
	sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" 2>/dev/null | head -n1
}

install() {
	command -v node >/dev/null 2>&1 ||
		die "node not found on PATH: it runs the DuckDB client (Debian/Ubuntu: apt-get install nodejs)"
	if [[ $(installed_version) == "$VERSION" ]]; then
		echo "$CACHE/node_modules"
		return
	fi
	command -v npm >/dev/null 2>&1 ||
		die "npm not found on PATH: it is needed once to install @duckdb/node-api@$VERSION into $CACHE (Debian/Ubuntu: apt-get install npm)"
	mkdir -p "$CACHE"
	echo "duckdb.sh: installing @duckdb/node-api@$VERSION into $CACHE" >&2
	# npm's output goes to stderr: stdout carries only the folder. The
	# package's platform binding (@duckdb/node-bindings-<os>-<arch>) comes
	# from the registry too; nothing is downloaded from elsewhere.
	npm install --prefix "$CACHE" --no-audit --no-fund --no-save "@duckdb/node-api@$VERSION" >&2 ||
		fail "npm install @duckdb/node-api@$VERSION into $CACHE failed"
	[[ $(installed_version) == "$VERSION" ]] || fail "no @duckdb/node-api@$VERSION under $CACHE after installing"
	echo "$CACHE/node_modules"
}

case "${1:-}" in
install)
	install
	;;
*)
	echo "usage: $0 install" >&2
	exit 64
	;;
esac
