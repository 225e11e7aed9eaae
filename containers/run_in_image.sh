#!/usr/bin/env bash
# run_in_image.sh MODULE TASKDIR ARGV...: start ARGV in TASKDIR inside the working container of MODULE's image
# (listed in $CONTAINERS_FILE by build.sh), the image's entrypoint composed in front of ARGV as `docker run IMAGE
# ARGV` composes them (Nextflow's and Galaxy's docker runners start their command that way); buildah run alone
# would leave the entrypoint out.
set -euo pipefail
module=$1 taskdir=$2
shift 2
container=$(awk -v m="$module" '$1 == m {print $2}' "$CONTAINERS_FILE")
chmod a+rwx "$taskdir"  # the image's own (non-root) user writes the task's outputs, as under Galaxy or Kubernetes
mapfile -t entrypoint < <(buildah --storage-driver "$STORAGE_DRIVER" inspect \
    --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}' "$container")
exec buildah --storage-driver "$STORAGE_DRIVER" run --isolation chroot --workingdir "$taskdir" "$container" -- \
    "${entrypoint[@]}" "$@"
