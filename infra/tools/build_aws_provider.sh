#!/usr/bin/env bash
# Build the hashicorp/aws 6.x Terraform provider from the Go module proxy, once, into a
# filesystem mirror outside the work tree that later runs (and other clones) reuse.
#
# Why a build: the only terraform-provider-aws the Go module proxy serves here is a
# main-branch snapshot (below, it calls itself 6.48.0, unreleased); the registry is not
# reachable. Its main.go uses the module's internal/ packages, which Go forbids other
# modules to import, so the wrapper module does not re-implement main: it requires the
# provider (go.mod `tool` directive) and `go build`s the provider's own main package.
#
#   build_aws_provider.sh build    build in the foreground (no-op if already installed)
#   build_aws_provider.sh start    start the build in the background, nice'd, if the binary
#                                  is missing and no build is running; returns at once
#   build_aws_provider.sh wait [S] wait up to S seconds (default 5400) for the binary;
#                                  fails naming the log if no build is running or it failed
#   build_aws_provider.sh status   print installed | building | failed (the last build) | missing
#   build_aws_provider.sh mirror   print the filesystem mirror directory
#   build_aws_provider.sh version  print the version the mirror holds it under
#   build_aws_provider.sh log      print the build log's path
#   build_aws_provider.sh cliconfig  write a Terraform CLI configuration that takes
#                                  hashicorp/aws from the mirror only; print its path
#
# Environment: FRAUD_TF_CACHE (default ~/.cache/fraud-stream) is where everything goes;
# FRAUD_TF_KEEP_GOCACHE=1 keeps the ~9 GB Go build cache after a successful build (it is
# only needed to resume an interrupted build, so it is removed once the binary exists).
set -euo pipefail

MODULE=github.com/hashicorp/terraform-provider-aws
MODULE_VERSION=v1.60.1-0.20260602190131-5f2286d6d836
# The snapshot's CHANGELOG heads "6.48.0 (Unreleased)". It is installed under 6.48.0 so
# that the root module's ordinary ">= 6.0, < 7.0" constraint selects it (Terraform picks a
# pre-release such as 6.48.0-dev only for an exact "= 6.48.0-dev" constraint); the binary
# itself reports 6.48.0-dev.
VERSION=6.48.0
BINARY_VERSION=6.48.0-dev
PLATFORM=linux_amd64

CACHE=${FRAUD_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fraud-stream}
MIRROR=$CACHE/terraform-providers
DEST_DIR=$MIRROR/registry.terraform.io/hashicorp/aws/$VERSION/$PLATFORM
DEST=$DEST_DIR/terraform-provider-aws_v$VERSION
WORK=$CACHE/build/aws-$VERSION
LOG=$CACHE/build/aws-$VERSION.log
LOCK=$CACHE/build/aws-$VERSION.lock
FAILED=$CACHE/build/aws-$VERSION.failed
GOCACHE_DIR=$CACHE/build/aws-$VERSION-gocache

mkdir -p "$CACHE/build"

is_building() {
    # The build holds an exclusive flock on $LOCK for its whole run.
    [ -e "$LOCK" ] || return 1
    ! flock -n "$LOCK" true 2>/dev/null
}

do_build() {
    # Runs with the lock held and stdout/stderr going to the log.
    if [ -x "$DEST" ]; then
        echo "already installed: $DEST"
        return 0
    fi
    rm -f "$FAILED"
    local start end
    start=$(date +%s)
    echo "== $(date -u +%FT%TZ) building $MODULE@$MODULE_VERSION as $VERSION ($BINARY_VERSION)"
    echo "   go: $(go version), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
    mkdir -p "$WORK"
    cd "$WORK"
    cat >go.mod <<EOF
module fraudstream.local/terraform-provider-aws-build

go 1.26.3

// Copied from the provider's go.mod: godebug lines only apply in the main module.
// Disable post-quantum X25519MLKEM768 key exchange (errors with AWS Network Firewall).
godebug tlsmlkem=0

require $MODULE $MODULE_VERSION

tool $MODULE
EOF
    export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE=$GOCACHE_DIR
    echo "== $(date -u +%T) go mod tidy"
    go mod tidy
    echo "== $(date -u +%T) go mod download ($(($(date +%s) - start))s so far)"
    go mod download
    echo "== $(date -u +%T) go build ($(($(date +%s) - start))s so far)"
    mkdir -p "$DEST_DIR"
    local tmp=$DEST_DIR/.terraform-provider-aws.tmp.$$
    nice -n 19 go build -trimpath \
        -ldflags "-s -w -X $MODULE/version.ProviderVersion=$BINARY_VERSION" \
        -o "$tmp" "$MODULE"
    mv -f "$tmp" "$DEST"   # atomic: readers see no binary or the whole binary
    end=$(date +%s)
    echo "== $(date -u +%FT%TZ) installed $DEST"
    echo "   wall time: $((end - start))s; binary: $(du -sh "$DEST" | cut -f1)"
    echo "   disk: Go build cache $(du -sh "$GOCACHE_DIR" 2>/dev/null | cut -f1)," \
        "Go module cache $(du -sh "$(go env GOMODCACHE)" 2>/dev/null | cut -f1)"
    if [ "${FRAUD_TF_KEEP_GOCACHE:-0}" != 1 ]; then
        chmod -R u+w "$GOCACHE_DIR" 2>/dev/null || true
        rm -rf "$GOCACHE_DIR"
        echo "   removed the Go build cache (FRAUD_TF_KEEP_GOCACHE=1 keeps it)"
    fi
}

build_locked() {
    # Take the lock (waiting for a concurrent build, which then leaves nothing to do).
    exec 9>"$LOCK"
    flock 9
    if [ -x "$DEST" ]; then
        return 0
    fi
    # A separate process, so that `set -e` holds inside the build (it does not in an `if`).
    if ! "$0" _build >>"$LOG" 2>&1; then
        echo "$(date -u +%FT%TZ)" >"$FAILED"
        echo "== $(date -u +%FT%TZ) BUILD FAILED" >>"$LOG"
        echo "building the aws provider failed; see $LOG" >&2
        return 1
    fi
}

main() {
cmd=${1:-build}
case "$cmd" in
_build)
    do_build
    ;;
build)
    [ -x "$DEST" ] && { echo "$DEST"; exit 0; }
    echo "building $MODULE@$MODULE_VERSION (log: $LOG)" >&2
    build_locked
    echo "$DEST"
    ;;
start)
    if [ -x "$DEST" ] || is_building; then
        exit 0
    fi
    echo "starting the aws provider build in the background (log: $LOG)" >&2
    # setsid+nohup: the build outlives the make/pytest that started it, so an
    # interrupted run leaves it going and the next run waits for it instead of restarting.
    setsid nohup nice -n 19 "$0" build >/dev/null 2>&1 </dev/null &
    # Give the child a moment to take the lock, so a `wait` right after sees it building.
    for _ in $(seq 50); do
        is_building && break
        sleep 0.1
    done
    ;;
wait)
    timeout=${2:-5400}
    waited=0
    while [ ! -x "$DEST" ]; do
        if ! is_building; then
            [ -x "$DEST" ] && break
            if [ -e "$FAILED" ]; then
                echo "the aws provider build failed; see $LOG" >&2
            else
                echo "the aws provider is not installed at $DEST and no build is running;" \
                    "run $0 build (log: $LOG)" >&2
            fi
            exit 1
        fi
        if [ "$waited" -ge "$timeout" ]; then
            echo "timed out after ${timeout}s waiting for the aws provider build; see $LOG" >&2
            exit 1
        fi
        sleep 5
        waited=$((waited + 5))
    done
    echo "$DEST"
    ;;
status)
    if [ -x "$DEST" ]; then echo installed
    elif is_building; then echo building
    elif [ -e "$FAILED" ]; then echo failed
    else echo missing
    fi
    ;;
mirror)
    echo "$MIRROR"
    ;;
version)
    echo "$VERSION"
    ;;
log)
    echo "$LOG"
    ;;
cliconfig)
    cfg=$CACHE/terraformrc
    cat >"$cfg.tmp.$$" <<EOF
# Written by infra/tools/build_aws_provider.sh: hashicorp/aws from the local build only.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
    mv -f "$cfg.tmp.$$" "$cfg"
    echo "$cfg"
    ;;
*)
    echo "usage: $0 build|start|wait [seconds]|status|mirror|version|log|cliconfig" >&2
    exit 2
    ;;
esac
}

# The whole file is read before anything runs (main is called on its last line): a build
# runs for an hour, and bash would otherwise read an edited or checked-out script mid-run.
main "$@"; exit $?
