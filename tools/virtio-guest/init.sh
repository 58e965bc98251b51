#!/bin/sh
# /init of the demo guest: bring eth0 (virtio-net on Tern's vhost-user back-end) up, ping the
# responder (tern.peer), then, if the kernel command line names one (tern.host), ping a Tern host and
# fetch tern.url from its tern.port over TCP (HTTP/1.0); markers (TERN-GUEST-...) let the test read the results.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
# dependency order (modinfo -F depends): virtio_ring first
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko || echo "TERN-GUEST-INSMOD-FAILED $m"
done
arg() { sed -n "s/.*tern\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ip=$(arg ip)
peer=$(arg peer)
count=$(arg count)
host=$(arg host)
url=$(arg url)
ip link set lo up
ip link set eth0 up
ip addr add "${ip:-192.168.1.1/24}" dev eth0
echo "TERN-GUEST-UP $(cat /sys/class/net/eth0/address)"
ping -c "${count:-5}" -i 0.2 -W 2 "${peer:-192.168.1.2}"
echo "TERN-GUEST-PING-RC $?"
if [ -n "$host" ]; then
    ping -c 2 -i 0.2 -W 2 "$host"
    echo "TERN-GUEST-HOST-PING-RC $?"
    # busybox-static's wget crashes in glibc's static name lookup; nc takes the numeric address
    echo "TERN-GUEST-FETCH-BEGIN"
    printf 'GET %s HTTP/1.0\r\n\r\n' "${url:-/}" | nc -w 5 "$host" "$(arg port)"
    rc=$?
    echo
    echo "TERN-GUEST-FETCH-END $rc"
fi
echo "TERN-GUEST-DONE"
sync
poweroff -f
