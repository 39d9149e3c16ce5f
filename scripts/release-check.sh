#!/usr/bin/env bash
# Checks that the tree is ready to be released as TAG: action.yml runs the
# image of this release and setup/action.yml installs this release.
set -euo pipefail
tag=${1:?usage: release-check.sh vX.Y.Z}
cd "$(dirname "$0")/.."
[[ $tag =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "release-check: $tag is not a vX.Y.Z tag"; exit 1; }
image=$(awk '$1 == "image:" { print $2 }' action.yml)
[ "$image" = "docker://ghcr.io/gait-dev/gait:$tag" ] || { echo "release-check: action.yml runs $image; set it to docker://ghcr.io/gait-dev/gait:$tag"; exit 1; }
setup=$(awk '/^  version:/ { v = 1 } v && $1 == "default:" { print $2; exit }' setup/action.yml)
[ "$setup" = "$tag" ] || { echo "release-check: setup/action.yml installs $setup; set its version default to $tag"; exit 1; }
released=$(sed -n 's/^const ReleasedVersion = "\(.*\)"$/\1/p' doctor/doctor.go)
[ "$released" = "$tag" ] || { echo "release-check: doctor.ReleasedVersion is $released; set it to $tag"; exit 1; }
grep -q "gait/cmd/gait@$tag" docs/quickstart.md README.md || { echo "release-check: README.md and docs/quickstart.md must install gait@$tag"; exit 1; }
echo "release-check: $tag ok"
