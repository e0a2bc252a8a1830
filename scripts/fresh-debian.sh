#!/usr/bin/env bash
# Runs one of the README's two commands on a fresh Debian 12: a minimal bookworm system made by
# debootstrap in a temporary folder, with nothing installed beyond its base and a clone of this
# repository's HEAD (committed work only), as root in a chroot.  What a new user's machine does.
#   sudo scripts/fresh-debian.sh test       scripts/test.sh    (install, build, the whole suite)
#   sudo scripts/fresh-debian.sh run-all    scripts/run-all.sh (install, build, every lab and figure)
# Needs root and network access to deb.debian.org (or NNLAB_DEBIAN_MIRROR); installs debootstrap
# if it is missing.  The folder (about 4-6 GB) is removed at the end unless NNLAB_KEEP=1.
# Exit status: the command's own (2 for bad usage or no root, 1 if debootstrap fails).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  test) cmd=scripts/test.sh ;;
  run-all) cmd=scripts/run-all.sh ;;
  *) echo "fresh-debian.sh: usage: fresh-debian.sh test|run-all" >&2; exit 2 ;;
esac
if [[ $(id -u) -ne 0 ]]; then echo "fresh-debian.sh: needs root (debootstrap, chroot, mount)" >&2; exit 2; fi
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
mirror=${NNLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d "${TMPDIR:-/tmp}/nnlab-fresh-debian.XXXXXX")
mounts=(proc sys dev dev/pts dev/shm)
# shellcheck disable=SC2317  # (cleanup runs from the EXIT trap, which shellcheck does not follow)
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    if mountpoint -q "$root/${mounts[i]}"; then
      umount "$root/${mounts[i]}" || echo "fresh-debian.sh: could not unmount $root/${mounts[i]}; the folder stays" >&2
    fi
  done
  # Only once nothing is mounted below it (never delete through a bind mount of /dev).
  if [[ "${NNLAB_KEEP:-0}" != 1 ]] && ! grep -q " $root/" /proc/mounts; then rm -rf "$root"; fi
}
trap cleanup EXIT
echo "fresh-debian.sh: debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { echo "fresh-debian.sh: debootstrap failed, see $root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
for m in proc sys dev dev/pts; do mount --bind "/$m" "$root/$m"; done
mount -t tmpfs tmpfs "$root/dev/shm"
git clone -q "$PWD" "$root/root/nnlab"
echo "fresh-debian.sh: $(git -C "$root/root/nnlab" log --oneline -1); running $cmd in the chroot"
t0=$SECONDS
rc=0
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "cd /root/nnlab && $cmd" || rc=$?
echo "fresh-debian.sh: $cmd exited $rc after $((SECONDS - t0)) s on a fresh Debian $(cat "$root/etc/debian_version")"
exit "$rc"
