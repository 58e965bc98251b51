#!/bin/sh
# /init of the demo guest: bring eth0 (virtio-net on Tern's vhost-user backend) up and run the
# commands the kernel command line names (tern.cmd=...), printing markers the test reads.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
# dependency order (modinfo -F depends): virtio_ring first
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko || echo "TERN-GUEST-INSMOD-FAILED $m"
done
ip=$(sed -n 's/.*tern\.ip=\([^ ]*\).*/\1/p' /proc/cmdline)
peer=$(sed -n 's/.*tern\.peer=\([^ ]*\).*/\1/p' /proc/cmdline)
count=$(sed -n 's/.*tern\.count=\([^ ]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 up
ip addr add "${ip:-192.168.1.1/24}" dev eth0
echo "TERN-GUEST-UP $(cat /sys/class/net/eth0/address)"
ping -c "${count:-5}" -i 0.2 -W 2 "${peer:-192.168.1.2}"
echo "TERN-GUEST-PING-RC $?"
echo "TERN-GUEST-DONE"
sync
poweroff -f
