#!/usr/bin/env bash
# CI's check of deploy/: the units verify, and install.sh run twice into a scratch root leaves
# the same tree as run once (it is idempotent). Needs a built daemon: deploy/check.sh BINARY.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: deploy/check.sh BINARY}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq systemd >/dev/null
fi
systemd-analyze verify "$here"/*.service
echo "units verify"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/firmware" && echo "# config.txt" >"$root/boot/firmware/config.txt"
snapshot() { (cd "$root" && find . -type f -print0 | sort -z | xargs -0 md5sum); }
ROOT=$root "$here/install.sh" --role both --binary "$bin" >/dev/null
first=$(snapshot)
ROOT=$root "$here/install.sh" --role both --binary "$bin" >/dev/null
[[ $first == "$(snapshot)" ]] || { echo "install.sh is not idempotent" >&2; diff <(echo "$first") <(snapshot) >&2; exit 1; }
for f in usr/local/bin/pioreactord etc/systemd/system/pioreactord-leader.service etc/pioreactor.env \
  home/pioreactor/.pioreactor/config.ini; do
  [[ -e $root/$f ]] || { echo "install.sh did not install /$f" >&2; exit 1; }
done
grep -q '^api_key=' "$root/home/pioreactor/.pioreactor/config.ini" || { echo "no API key in the leader's config" >&2; exit 1; }
echo "install.sh is idempotent"
