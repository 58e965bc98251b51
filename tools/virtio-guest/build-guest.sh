#!/bin/sh
# Build the Linux guest of the virtio-net demo (docs/virtio.md): a Debian kernel and a busybox
# initramfs whose /init loads virtio_net, configures eth0 and runs the commands of guest.conf.
# Everything is cached in $TERN_CACHE/virtio-guest (default ~/.cache/tern/virtio-guest); a second
# run reuses it. Needs: apt-get (download only, no root), dpkg-deb, a static busybox
# (package busybox-static), python3.
# Usage: build-guest.sh [OUTDIR]   -> OUTDIR/vmlinuz, OUTDIR/vmlinux (if extractable),
#                                     OUTDIR/modules/, OUTDIR/initramfs.cpio.gz
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TERN_CACHE:-$HOME/.cache/tern}/virtio-guest}
mkdir -p "$out"
cd "$out"

if [ ! -f vmlinuz ]; then
    # the kernel the linux-image-amd64 metapackage points at
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
    [ -n "$pkg" ] || { echo "build-guest: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
    rm -rf pkg && mkdir pkg
    (cd pkg && apt-get download -q "$pkg" >/dev/null)
    dpkg-deb -x pkg/*.deb pkg/root
    cp pkg/root/boot/vmlinuz-* vmlinuz.tmp
    kver=$(ls pkg/root/lib/modules)
    rm -rf modules && mkdir modules
    # virtio_net and what it needs; virtio, virtio_ring and virtio_pci may be built in (then absent)
    for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko \
             drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
             drivers/virtio/virtio_pci.ko net/core/failover.ko drivers/net/net_failover.ko \
             drivers/net/virtio_net.ko; do
        for f in "pkg/root/lib/modules/$kver/kernel/$m" "pkg/root/lib/modules/$kver/kernel/$m.xz"; do
            [ -f "$f" ] && cp "$f" modules/
        done
    done
    for f in modules/*.xz; do [ -f "$f" ] && xz -d "$f"; done
    echo "$kver" > kernel-version
    rm -rf pkg
    mv vmlinuz.tmp vmlinuz
fi

# The uncompressed kernel boots faster under TCG (no decompression in emulation): QEMU loads an
# ELF vmlinux through its PVH entry point.
if [ ! -f vmlinux ]; then
    python3 "$here/extract_vmlinux.py" vmlinuz vmlinux.tmp && mv vmlinux.tmp vmlinux || rm -f vmlinux.tmp
fi

busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || busybox=/bin/busybox
python3 "$here/mkinitramfs.py" --busybox "$busybox" --init "$here/init.sh" --modules modules \
    --out initramfs.cpio.gz.tmp
mv initramfs.cpio.gz.tmp initramfs.cpio.gz
echo "$out"
