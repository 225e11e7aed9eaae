#!/usr/bin/env bash
# Build genosynth/base and the nine step images with buildah (no Docker engine needed) and check them as runtimes
# use them: no image has an ENTRYPOINT and each shows its step's help as CMD; then every Nextflow module's task is
# rendered from the module (nextflow/checks/tasks.py), staged and started inside its image as Nextflow's docker
# executor starts it (`/bin/bash -ue .command.sh`, the image's entrypoint composed in as `docker run` does), on tiny
# data, in workflow order. Prints every image's size.
#
#   containers/build.sh            the CPU flavour (tags VERSION-cpu; this machine's CPU torch wheel when it has one)
#   GPU=1 containers/build.sh      the GPU flavour (tags VERSION; CUDA 13.0 wheels from the Python package index:
#                                  hosts need an NVIDIA driver >= 580)
#   GPU=1 CUDA=cu126 containers/build.sh   the GPU flavour for older drivers (tags VERSION-cu126; PyTorch's CUDA 12.6
#                                  wheels from its own index, download.pytorch.org/whl/cu126: drivers >= 525.60.13)
#   REGISTRY=registry.example.org/lab containers/build.sh    tags registry.example.org/lab/genosynth/STEP:...
#
# The base root filesystem comes from Debian packages (mmdebstrap), so no registry pull is needed; BASE_IMAGE=...
# builds from the Dockerfile's pinned python:3.11-slim-bookworm (or another) where a registry is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${VERSION:-$(cat tools/genosynth/VERSION)}  # the one version file (make containers passes it) (the package, pyproject and the pipeline read it)
STEPS="vcf-to-matrix train-gan train-rbm train-diffusion sample impute-augment evaluate privacy-check selection-scan infer-demography"
BUILD_DIR=${BUILD_DIR:-build/containers}
PYTHON=${PYTHON:-.venv/bin/python}
if [ -n "${GPU:-}" ] && [ -n "${CUDA:-}" ]; then
    SUFFIX="-$CUDA" FLAVOUR="$CUDA" TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
    TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/$CUDA}
elif [ -n "${GPU:-}" ]; then
    SUFFIX="" FLAVOUR=cu130 TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0} TORCH_INDEX_URL=${TORCH_INDEX_URL:-}
else
    FLAVOUR=cpu
    SUFFIX="-cpu"
    LOCAL_TORCH=$(ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -1 || true)
    if [ -z "${TORCH_SPEC:-}" ] && [ -n "$LOCAL_TORCH" ]; then
        TORCH_SPEC=$LOCAL_TORCH TORCH_INDEX_URL=""
    else
        TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0} TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
    fi
fi
REGISTRY=${REGISTRY:+${REGISTRY%/}/}
image() { echo "${REGISTRY}genosynth/$1:$VERSION$SUFFIX"; }

# overlay storage where the kernel lets buildah mount it (fast, layers shared); vfs (full copies) otherwise
if [ -z "${STORAGE_DRIVER:-}" ]; then
    STORAGE_DRIVER=vfs
    probe=$(buildah --storage-driver overlay from scratch 2>/dev/null || true)
    if [ -n "$probe" ] && buildah --storage-driver overlay mount "$probe" >/dev/null 2>&1; then
        STORAGE_DRIVER=overlay
    fi
    [ -z "$probe" ] || buildah --storage-driver overlay rm "$probe" >/dev/null 2>&1 || true
fi
export STORAGE_DRIVER
BUILDAH=(buildah --storage-driver "$STORAGE_DRIVER")
mkdir -p "$BUILD_DIR"

# pip inside the builds sees this machine's pip configuration, wheel folders and CA bundle
MOUNTS=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
for path in /etc/pip.conf /opt/wheels /opt/pypi /opt/pypi-more; do
    [ -e "$path" ] && MOUNTS+=(--volume "$path:$path:ro")
done
BUILD=("${BUILDAH[@]}" bud --layers --isolation chroot --network host "${MOUNTS[@]}")

if [ -z "${BASE_IMAGE:-}" ]; then
    BASE_IMAGE=localhost/genosynth/debian-python:bookworm
    if ! "${BUILDAH[@]}" inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "containers: Debian bookworm root filesystem with Python (mmdebstrap)"
        mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
            bookworm "$BUILD_DIR/debian-python.tar"
        printf 'FROM scratch\nADD debian-python.tar /\nCMD ["/bin/bash"]\n' > "$BUILD_DIR/Containerfile"
        "${BUILD[@]}" -t "$BASE_IMAGE" "$BUILD_DIR"
    fi
fi
echo "containers: $(image base) from $BASE_IMAGE with $TORCH_SPEC ($STORAGE_DRIVER storage)"
"${BUILD[@]}" --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg TORCH_SPEC="$TORCH_SPEC" \
    --build-arg TORCH_INDEX_URL="${TORCH_INDEX_URL:-}" --build-arg VERSION="$VERSION" --build-arg FLAVOUR="$FLAVOUR" \
    --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -f containers/base/Dockerfile -t "$(image base)" .
for step in $STEPS; do
    "${BUILD[@]}" --build-arg VERSION="$VERSION" --build-arg BASE="$(image base)" -f "containers/$step/Dockerfile" -t "$(image "$step")" "containers/$step"
done

# 1. the configuration runtimes read: no entrypoint anywhere, the step's help as the default command
for name in base $STEPS; do
    config=$("${BUILDAH[@]}" inspect --format '{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}' "$(image "$name")")
    expected="[] [genosynth$( [ "$name" = base ] || echo "-$name") --help]"
    if [ "$config" != "$expected" ]; then
        echo "containers: $(image "$name"): entrypoint and command are $config, expected $expected" >&2
        exit 1
    fi
done
echo "containers: no image has an entrypoint; each one's command is its step's --help"

# 2. every module's task inside its image, as Nextflow's docker executor starts it
WORK=$(mktemp -d)
CONTAINERS_FILE="$WORK/containers.txt"
export CONTAINERS_FILE
declare -A CONTAINER  # one working container per image, reused by every task (copies are slow on vfs)
cleanup() {
    for c in "${CONTAINER[@]}"; do "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
for module in vcf_to_matrix train_gan train_rbm train_diffusion sample impute_augment evaluate privacy_check selection_scan; do
    name=${module//_/-}
    CONTAINER[$module]=$("${BUILDAH[@]}" from --volume "$WORK:$WORK" "$(image "$name")")
    echo "$module ${CONTAINER[$module]}" >> "$CONTAINERS_FILE"
done
chmod -R a+rwX "$WORK"  # the images run as their own user, who writes the task folders
"$PYTHON" nextflow/checks/tasks.py "$WORK/chain" --hostile --runner-prefix "containers/run_in_image.sh {module} {taskdir}"
echo "containers: every module's rendered task ran in its image"

# 3. sizes
echo "containers: image sizes"
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep "genosynth/" | grep -v debian-python | grep ":$VERSION$SUFFIX " || true
