#!/usr/bin/env bash
# Install the third-party MCP servers that salon-mcp's tests run over stdio, ahead of the tests (the tests
# never reach the network). Idempotent: a second run with the same pins does nothing.
#
#   bash plugins/mcp/scripts/install-test-servers.sh        # prints the directory to export
#   export SALON_MCP_THIRD_PARTY_DIR=<that directory>
#
# The servers are the reference MCP servers published on PyPI by the modelcontextprotocol project; they live
# in a venv of their own (never next to salon's), under ~/.cache/salon-ci/ (or $SALON_MCP_THIRD_PARTY_DIR).
set -euo pipefail

MCP_SERVER_TIME_VERSION=2026.10.19
MCP_SERVER_FETCH_VERSION=2026.10.24
PINS="mcp-server-time==$MCP_SERVER_TIME_VERSION mcp-server-fetch==$MCP_SERVER_FETCH_VERSION"

DIR="${SALON_MCP_THIRD_PARTY_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/salon-ci/mcp-servers}"
PYTHON="${PYTHON:-python3}"
STAMP="$DIR/installed.txt"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" && -x "$DIR/venv/bin/mcp-server-time" && -x "$DIR/venv/bin/mcp-server-fetch" ]]; then
    echo "::: third-party MCP servers already installed in $DIR ($PINS)" >&2
    echo "$DIR"
    exit 0
fi

echo "::: installing third-party MCP servers into $DIR: $PINS" >&2
mkdir -p "$DIR"
rm -rf "$DIR/venv" "$STAMP"
if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$PYTHON" "$DIR/venv" >&2
    # shellcheck disable=SC2086
    VIRTUAL_ENV="$DIR/venv" uv pip install --quiet $PINS >&2
else
    "$PYTHON" -m venv "$DIR/venv"
    # shellcheck disable=SC2086
    "$DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check $PINS >&2
fi
"$DIR/venv/bin/python" -c "import mcp_server_time, mcp_server_fetch" >&2
echo "$PINS" >"$STAMP"
echo "::: third-party MCP servers installed in $DIR" >&2
echo "$DIR"
