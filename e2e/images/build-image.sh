#!/usr/bin/env bash
# Builds the container images of the local cluster from real Dockerfiles with
# buildah, without a registry, and imports them into the real node's
# containerd. Each image is built once per content of its inputs (Dockerfile,
# build context, base image, build arguments) into an OCI archive in the cache;
# a warm call only checks that the node holds that image, and imports it if not.
#
#   build-image.sh [--import] IMAGE...     build (and import) the named images
#   build-image.sh --ref IMAGE             print the image's reference
#   build-image.sh --list                  the images this script knows
#
# Images (all cd4ml.local/<name>:<tag>, used with imagePullPolicy IfNotPresent):
#   pause           the pod sandbox (a static binary, FROM scratch)
#   echo-server     answers with the serving pod's revision (real-node tests)
#   cd4ml-operator  the repository's Dockerfile, runtime stage, with the binary
#                   make build made (same Debian release, same libraries)
#   churn-trainer churn-server churn-traffic   the reference model (examples/churn)
#
# The Dockerfiles' FROM debian:bookworm-slim is a base image made here with
# mmdebstrap (minbase, documentation and locales left out as in the official
# slim image), tagged under that name in buildah's own storage.
# docs/local-cluster.md ("Images") has the measured sizes and times.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_root=${CD4ML_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cd4ml-operator}
image_cache=$cache_root/images
storage=(--root "$cache_root/buildah/root" --runroot "$cache_root/buildah/run"
  --storage-driver overlay)
HOST_CERTS=/run/cd4ml-host-certs # where a build's RUN steps see this machine's CAs
DEBIAN_MIRROR=${CD4ML_DEBIAN_MIRROR:-http://deb.debian.org/debian}
OPERATOR_BINARY=${CD4ML_OPERATOR_BINARY:-$repo/build/bin/cd4ml-operator}

log() { echo "build-image: $*" >&2; }
die() { log "error: $*"; exit 1; }

# buildah's overlay storage bind-mounts its own directory (to make mounts
# under it private) and leaves that mount when it exits; cluster-down's
# promise that the machine is as it was (e2e.machine-restored) covers it. So
# it is unmounted on the way out, unless a concurrent build still has
# something mounted below it (then umount says busy and it stays).
release_storage_mount() {
  local home=$cache_root/buildah/root/overlay
  if findmnt -rn -o TARGET | grep -qxF "$home"; then
    umount "$home" 2> /dev/null || true
  fi
}
trap release_storage_mount EXIT

# name -> reference
image_ref() {
  case $1 in
    pause) echo cd4ml.local/pause:1 ;;
    echo-server) echo cd4ml.local/echo-server:1 ;;
    cd4ml-operator) echo "cd4ml.local/cd4ml-operator:$(operator_version)" ;;
    churn-trainer | churn-server | churn-traffic) echo "cd4ml.local/$1:1" ;;
    *) return 1 ;;
  esac
}
KNOWN_IMAGES=(pause echo-server cd4ml-operator churn-trainer churn-server churn-traffic)

operator_version() {
  sed -n 's/^project(cd4ml-operator VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt"
}

hash_files() { # hash of the named files' paths and contents
  local f
  for f in "$@"; do
    printf '%s\n' "${f#"$repo"/}"
    sha256sum < "$f"
  done | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- base image --

BASE_REF=docker.io/library/debian:bookworm-slim
# What the official slim image leaves out (docs, man pages, locales).
BASE_EXCLUDES=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*')
base_key() {
  { echo "mmdebstrap minbase bookworm $DEBIAN_MIRROR"; printf '%s\n' "${BASE_EXCLUDES[@]}"; } |
    sha256sum | cut -c1-16
}

ensure_base() {
  local key stamp
  key=$(base_key)
  stamp=$image_cache/base-$key.id
  if [ -f "$stamp" ] && buildah "${storage[@]}" inspect --type image "$BASE_REF" > /dev/null 2>&1 &&
    [ "$(buildah "${storage[@]}" inspect --type image -f '{{.FromImageID}}' "$BASE_REF")" = "$(cat "$stamp")" ]; then
    return 0
  fi
  local start=$SECONDS tmp
  log "making the base image $BASE_REF with mmdebstrap (about a minute and a half, once)"
  tmp=$(mktemp -d)
  local opts=() p
  for p in "${BASE_EXCLUDES[@]}"; do opts+=("--dpkgopt=path-exclude=$p"); done
  mmdebstrap --quiet --variant=minbase "${opts[@]}" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$tmp/rootfs.tar" "$DEBIAN_MIRROR" || { rm -rf "$tmp"; die "mmdebstrap failed"; }
  local ctr id
  ctr=$(buildah "${storage[@]}" from scratch)
  buildah "${storage[@]}" add --quiet "$ctr" "$tmp/rootfs.tar" / > /dev/null
  buildah "${storage[@]}" config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  id=$(buildah "${storage[@]}" commit --quiet --rm "$ctr" "$BASE_REF")
  rm -rf "$tmp"
  mkdir -p "$image_cache"
  echo "$id" > "$stamp"
  log "base image ready in $((SECONDS - start))s"
}

base_id() { buildah "${storage[@]}" inspect --type image -f '{{.FromImageID}}' "$BASE_REF"; }

# ------------------------------------------------------------ image recipes --

# recipe <name>: sets dockerfile, context, build_args, inputs (files that
# make the cache key) and prepare (a function run on a staging dir first).
recipe() {
  dockerfile= context= build_args=() inputs=() target= uses_base=1 prepare=
  case $1 in
    pause)
      dockerfile=$here/pause/Dockerfile uses_base=0 prepare=prepare_pause
      inputs=("$here/pause/Dockerfile" "$here/pause/pause.c") ;;
    echo-server)
      dockerfile=$here/echo-server/Dockerfile context=$here/echo-server
      inputs=("$here/echo-server/Dockerfile" "$here/echo-server/server.py") ;;
    cd4ml-operator)
      [ -x "$OPERATOR_BINARY" ] || die "$OPERATOR_BINARY is missing: run make build first"
      dockerfile=$repo/Dockerfile target=runtime prepare=prepare_operator
      inputs=("$repo/Dockerfile" "$OPERATOR_BINARY") ;;
    churn-trainer | churn-server | churn-traffic)
      local churn=$repo/examples/churn
      [ -d "$churn" ] || die "examples/churn is missing"
      dockerfile=$churn/Dockerfile.${1#churn-} context=$churn
      mapfile -t inputs < <(cd "$repo" && git ls-files -co --exclude-standard examples/churn |
        grep -v -E '(^|/)(tests?|__pycache__)/' | sed "s|^|$repo/|") ;;
    *) die "unknown image '$1' (known: ${KNOWN_IMAGES[*]})" ;;
  esac
}

prepare_pause() { # the static sandbox binary, into the build context
  gcc -static -O2 -s -Wall -Wextra -Werror -o "$1/pause" "$here/pause/pause.c"
  cp "$here/pause/Dockerfile" "$1/"
  context=$1
}

prepare_operator() {
  # The Dockerfile's build stage compiles in a container; here `make build`
  # already did, on the same Debian release, so its (stripped) binary takes
  # the place of that stage: --build-context build=<dir with build/bin/>.
  mkdir -p "$1/build/bin"
  cp "$OPERATOR_BINARY" "$1/build/bin/cd4ml-operator"
  strip "$1/build/bin/cd4ml-operator"
  build_args+=(--build-context "build=$1")
  context=$repo
}

image_key() {
  local extra=
  [ "$uses_base" = 0 ] || extra=$(base_id)
  { hash_files "${inputs[@]}"; echo "$extra ${build_args[*]:-} $target"; } | sha256sum | cut -c1-16
}

# build <name>: the archive's path on stdout.
build() {
  local name=$1 ref key archive
  ref=$(image_ref "$name")
  recipe "$name"
  [ "$uses_base" = 0 ] || ensure_base
  key=$(image_key)
  archive=$image_cache/$name-$key.tar
  if [ -f "$archive" ]; then
    echo "$archive"
    return 0
  fi
  local start=$SECONDS stage
  stage=$(mktemp -d)
  # shellcheck disable=SC2064  # expand now
  trap "rm -rf '$stage'" RETURN
  [ -z "$prepare" ] || "$prepare" "$stage"
  log "building $ref"
  local args=(--quiet --pull=never --isolation chroot --layers -f "$dockerfile" -t "$ref")
  # RUN steps trust what this machine trusts, and use its pip settings (a
  # proxy's CA, a mirror): mounted for the build only, never in a layer. The
  # CAs go beside the image's own /etc/ssl/certs, not over it: Debian's
  # ca-certificates (which python3-venv pulls in) writes there when it is
  # installed, and fails on a read-only mount. pip.conf is copied with its
  # paths into /etc/ssl/certs pointed at the mounted CAs.
  if [ -d /etc/ssl/certs ]; then
    args+=(--volume "/etc/ssl/certs:$HOST_CERTS:ro")
  fi
  if [ -f /etc/pip.conf ]; then
    sed "s|/etc/ssl/certs|$HOST_CERTS|g" /etc/pip.conf > "$stage/pip.conf"
    args+=(--volume "$stage/pip.conf:/etc/pip.conf:ro")
  fi
  [ -z "$target" ] || args+=(--target "$target")
  buildah "${storage[@]}" bud "${args[@]}" "${build_args[@]}" "$context" > /dev/null ||
    die "buildah could not build $ref (from $dockerfile)"
  mkdir -p "$image_cache"
  rm -f "$image_cache/$name-"*.tar
  # Uncompressed layers: containerd unpacks them without gunzip.
  buildah "${storage[@]}" push --quiet --disable-compression --format oci "$ref" \
    "oci-archive:$archive.tmp:$ref" || die "could not write $ref to $archive"
  mv "$archive.tmp" "$archive"
  log "built $ref in $((SECONDS - start))s ($(du -m "$archive" | cut -f1) MB)"
  echo "$archive"
}

# import <name> <archive>: into the real node's containerd unless it already
# holds exactly this image.
import() {
  local name=$1 archive=$2 ref want have
  ref=$(image_ref "$name")
  LOG_PREFIX=build-image
  # shellcheck source=/dev/null
  source "$repo/e2e/scripts/cluster-lib.sh"
  load_env || die "no local cluster is running (make cluster-up)"
  [ "${REAL_NODE:-0}" = 1 ] || die "the local cluster has no real node to import $ref into; $(real_node_off_hint)"
  want=$(tar -xOf "$archive" index.json | jq -r '.manifests[0].digest')
  have=$(node_ctr images ls "name==$ref" 2> /dev/null | awk 'NR == 2 {print $3}')
  [ "$have" = "$want" ] && return 0
  local start=$SECONDS
  node_ctr images import --base-name "${ref%:*}" "$archive" > /dev/null ||
    die "containerd could not import $archive"
  have=$(node_ctr images ls "name==$ref" | awk 'NR == 2 {print $3}')
  [ "$have" = "$want" ] || die "after importing, containerd holds $ref as '$have', not $want"
  log "imported $ref in $((SECONDS - start))s"
}

do_import=0
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --import) do_import=1 ;;
    --ref) image_ref "$2" || die "unknown image '$2'"; exit 0 ;;
    --list) printf '%s\n' "${KNOWN_IMAGES[@]}"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || die "name the images to build (--list shows them)"
for n in "${names[@]}"; do
  image_ref "$n" > /dev/null || die "unknown image '$n' (known: ${KNOWN_IMAGES[*]})"
  archive=$(build "$n")
  [ "$do_import" = 0 ] || import "$n" "$archive"
done
