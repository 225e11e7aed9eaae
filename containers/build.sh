#!/usr/bin/env bash
# Build genosynth/base and the eight step images with buildah (no Docker engine needed), then check them:
# each image's --help, and a tiny real run vcf-to-matrix -> train-gan (1 epoch) -> sample -> evaluate across them.
# The base root filesystem comes from Debian packages (mmdebstrap), so no registry pull is needed; pass
# BASE_IMAGE=python:3.11-slim-bookworm to build from the usual image where a registry is reachable, and
# TORCH_SPEC=torch==2.13.0 for the GPU (CUDA) build.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' tools/genosynth/__init__.py)
STEPS="vcf-to-matrix train-gan train-rbm sample impute-augment evaluate privacy-check selection-scan"
BUILD_DIR=${BUILD_DIR:-build/containers}
# a CPU image here (the Dockerfile's default is the CUDA build): the machine's CPU wheel when it has one
LOCAL_TORCH=$(ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -1 || true)
if [ -z "${TORCH_SPEC:-}" ] && [ -n "$LOCAL_TORCH" ]; then
    TORCH_SPEC=$LOCAL_TORCH
elif [ -z "${TORCH_SPEC:-}" ]; then
    TORCH_SPEC=torch==2.13.0 TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
fi
BUILDAH=(buildah --storage-driver vfs)
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
echo "containers: genosynth/base:$VERSION from $BASE_IMAGE with $TORCH_SPEC"
"${BUILD[@]}" --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg TORCH_SPEC="$TORCH_SPEC" \
    --build-arg TORCH_INDEX_URL="${TORCH_INDEX_URL:-}" \
    --build-arg VERSION="$VERSION" -f containers/base/Dockerfile -t "genosynth/base:$VERSION" .
for step in $STEPS; do
    "${BUILD[@]}" --build-arg BASE="genosynth/base:$VERSION" \
        -f "containers/$step/Dockerfile" -t "genosynth/$step:$VERSION" "containers/$step"
done

# checks: --help through each image's entrypoint, then a tiny run across the images on shared data
DATA=$(mktemp -d)
cp galaxy_wrappers/test-data/sim.vcf.gz galaxy_wrappers/test-data/sim.populations.tsv "$DATA/"
chmod -R a+rwX "$DATA"
declare -A CONTAINER  # one working container per image, reused by every check (vfs copies are slow)
for step in $STEPS; do
    CONTAINER[$step]=$("${BUILDAH[@]}" from --volume "$DATA:/data" "genosynth/$step:$VERSION")
done
trap 'for c in "${CONTAINER[@]}"; do "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; done; rm -rf "$DATA"' EXIT
run_in() {  # run_in STEP ARGS...: the step's executable in its own image, /data mounted
    local step=$1; shift
    "${BUILDAH[@]}" run --isolation chroot --workingdir /data "${CONTAINER[$step]}" -- "genosynth-$step" "$@"
}
for step in $STEPS; do
    run_in "$step" --help >/dev/null && echo "containers: genosynth/$step:$VERSION --help ok"
done
run_in vcf-to-matrix sim.vcf.gz --populations sim.populations.tsv --holdout 0.3 --holdout-output holdout.h5 \
    --seed 1 -o train.h5
run_in train-gan train.h5 --preset wgan-gp --epochs 1 --monitor-every 1 --device cpu -o gan.safetensors
run_in sample gan.safetensors -n 40 --seed 1 --device cpu -o ag.vcf.gz
run_in evaluate --real train.h5 --holdout holdout.h5 --synthetic gan=ag.vcf.gz --triplets 100 --device cpu -o evaluation
test -s "$DATA/evaluation/report.html" && echo "containers: tiny run across the images ok"
