#!/usr/bin/env bash
# Build the Docker image the salon-docker tests run code in, without pulling anything from a registry.
#
#   plugins/docker/scripts/build-test-image.sh            # prints the image tag on its last line
#
# It bootstraps a minimal Debian (the suite and mirror this machine's apt sources name) with python3 into a
# tarball using mmdebstrap, then `docker import`s it as salon-test-python:<suite>. Both steps are cached: the
# tarball under ~/.cache/salon-ci/docker/ (built once per machine), the image in the daemon (imported once
# per data root). Needs: mmdebstrap, a reachable Debian mirror, and a dockerd that DOCKER_HOST points at.
#
# Overrides: SALON_DOCKER_SUITE, SALON_DOCKER_MIRROR, SALON_DOCKER_TEST_IMAGE (the tag),
#            SALON_CI_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/salon-ci).
set -euo pipefail

# The first Debian suite and mirror named by apt's sources (deb822 .sources files or one-line .list files).
apt_source() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        awk '
            /^[[:space:]]*$/ { if (deb && uri != "" && suite != "") { print uri, suite; exit } deb = 0; uri = ""; suite = ""; next }
            /^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { suite = $2 }
            END { if (deb && uri != "" && suite != "") print uri, suite }
        ' "$f" | grep -v -e security -e nodesource -e google | head -1
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$f"
    done | grep -v -e security -e nodesource -e google | head -1
}

read -r found_mirror found_suite < <(apt_source | head -1 || true)
SUITE="${SALON_DOCKER_SUITE:-${found_suite:-}}"
MIRROR="${SALON_DOCKER_MIRROR:-${found_mirror:-}}"
if [[ -z $SUITE || -z $MIRROR ]]; then
    echo "build-test-image: cannot tell the Debian suite and mirror from /etc/apt/sources.list(.d);" \
        "set SALON_DOCKER_SUITE and SALON_DOCKER_MIRROR" >&2
    exit 2
fi
TAG="${SALON_DOCKER_TEST_IMAGE:-salon-test-python:$SUITE}"
CACHE="${SALON_CI_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/salon-ci}/docker"
TARBALL="$CACHE/salon-test-python-$SUITE.tar"

if ! docker version >/dev/null 2>&1; then
    echo "build-test-image: no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start dockerd first," \
        "see docs/plugins/docker.md" >&2
    exit 2
fi

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "build-test-image: $TAG is already in the daemon" >&2
    echo "$TAG"
    exit 0
fi

if [[ ! -f $TARBALL || ! -s $TARBALL ]]; then
    command -v mmdebstrap >/dev/null || {
        echo "build-test-image: mmdebstrap is missing: apt-get install mmdebstrap" >&2
        exit 2
    }
    mkdir -p "$CACHE"
    echo "build-test-image: bootstrapping Debian $SUITE from $MIRROR into $TARBALL (once per machine)" >&2
    started=$SECONDS
    # minbase + python3 (python-is-python3 gives `python`, which the executor runs) and coreutils'
    # `timeout`; docs, man pages and locales are left out to keep the image small.
    rm -rf "$TARBALL.partial"
    mmdebstrap --quiet --format=tar --variant=minbase --include=python3,python-is-python3 \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$SUITE" "$TARBALL.partial" "$MIRROR"
    mv "$TARBALL.partial" "$TARBALL"
    echo "build-test-image: bootstrap took $((SECONDS - started))s" >&2
fi

echo "build-test-image: importing $TARBALL as $TAG" >&2
docker import --change 'CMD ["python3"]' --change 'WORKDIR /workspace' \
    --message "salon-docker test image (Debian $SUITE + python3)" "$TARBALL" "$TAG" >/dev/null
echo "$TAG"
