"""DHCPv6 client: malformed and foreign server messages are survived and not acted on (RFC 8415
section 16), each followed by the correct message as a positive control that the client was
still listening.

RFC 8415 section 16 (RFC 3315 section 15.3 before it): clients discard an Advertise when "the
message does not include a Server Identifier option", "the message does not include a Client
Identifier option", "the contents of the Client Identifier option does not match the client's
DUID", or "the "transaction-id" field value does not match the value the client used in its
Solicit message". Lengths are checked before anything is read (stack/wire/dhcpv6.h).
"""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dhcp6 import DHCP6_Advertise, DHCP6_Reply, DHCP6_Request, DHCP6_Solicit, DHCP6OptClientId
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6

from dhcpv6kit import DUID_LL, S, SOL_MAX_DELAY, T, answer, bench, expect_msg, msg_of

pytestmark = pytest.mark.area("dhcpv6")

NOT_A_REQUEST = IPv6() / UDP() / DHCP6_Request()


def solicit(net):
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    return dut, srv, sol


def good_advertise_bytes(sol) -> bytes:
    """The bytes :func:`answer` would send as a preference-255 Advertise for ``sol``."""
    from dhcpv6kit import DHCP6OptIA_NA, DHCP6OptPref, DHCP6OptServerId, ia_na, server_duid

    m = DHCP6_Advertise(trid=msg_of(sol).trid) / DHCP6OptClientId(duid=sol[DHCP6OptClientId].duid) / \
        DHCP6OptServerId(duid=server_duid()) / ia_na(iaid=sol[DHCP6OptIA_NA].iaid) / DHCP6OptPref(prefval=255)
    return bytes(m)


def survives(net, dut, srv, sol, ignored_before: int) -> None:
    """No Request for a while, the message counted as ignored; then a good Advertise is taken."""
    srv.expect_nothing(for_="300ms", matching=NOT_A_REQUEST)
    lease = dut.dhcpv6_lease()
    assert lease.state == "SOLICIT"
    assert lease.counters["ignored"] == ignored_before + 1
    assert lease.counters["advertises"] == 0
    answer(srv, sol, DHCP6_Advertise, pref=255)
    expect_msg(srv, DHCP6_Request, within="1ms")


def test_control_good_advertise_bytes_are_taken(net):
    """Positive control of the byte-level cases: the unmodified bytes get a Request at once."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, raw=good_advertise_bytes(sol))
    expect_msg(srv, DHCP6_Request, within="1ms")


@pytest.mark.rfc("8415 21.1")
def test_option_length_past_the_end(net):
    """The last option's length says 64 bytes more than the message holds: discarded."""
    dut, srv, sol = solicit(net)
    raw = bytearray(good_advertise_bytes(sol))
    raw += struct.pack("!HH", 7, 64) + b"\xff"  # Preference claiming 64 bytes, 1 present
    answer(srv, sol, DHCP6_Advertise, raw=bytes(raw))
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 21.1")
def test_truncated_in_an_option_header(net):
    """The message ends two bytes into an option header: discarded."""
    dut, srv, sol = solicit(net)
    raw = good_advertise_bytes(sol) + b"\x00\x07"
    answer(srv, sol, DHCP6_Advertise, raw=raw)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 8")
def test_shorter_than_the_header(net):
    """Three bytes: not even a transaction ID. Discarded."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, raw=b"\x02\x00\x00")
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 21.4", "8415 21.6")
def test_ia_address_length_past_the_ia(net):
    """Inside the IA_NA, the IA Address option claims more bytes than the IA_NA holds."""
    dut, srv, sol = solicit(net)
    good = bytearray(good_advertise_bytes(sol))
    ia_at = good.index(struct.pack("!H", 3), 4 + 14 + 14)  # IA_NA after Client and Server ID
    # the IA Address option header is 12 bytes into the IA_NA data: bump its length by 40
    off = ia_at + 4 + 12
    assert struct.unpack("!H", good[off:off + 2])[0] == 5
    struct.pack_into("!H", good, off + 2, struct.unpack("!H", good[off + 2:off + 4])[0] + 40)
    answer(srv, sol, DHCP6_Advertise, raw=bytes(good))
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 21.8")
def test_preference_of_wrong_length(net):
    """A Preference option of 2 bytes (section 21.8: option-len 1): the message is refused."""
    dut, srv, sol = solicit(net)
    raw = good_advertise_bytes(sol)
    raw = raw[:-5] + struct.pack("!HH", 7, 2) + b"\xff\xff"
    answer(srv, sol, DHCP6_Advertise, raw=raw)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_wrong_transaction_id(net):
    """An Advertise for another transaction: discarded."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, pref=255, xid=(msg_of(sol).trid + 1) & 0xFFFFFF)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_wrong_client_id(net):
    """An Advertise naming another client's DUID: discarded."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, pref=255, client_duid=DUID_LL(lladdr="02:00:00:00:00:99"))
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_missing_client_id(net):
    """An Advertise without a Client Identifier: discarded."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, pref=255, client_duid=None)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_missing_server_id(net):
    """An Advertise without a Server Identifier: discarded."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, pref=255, server=False)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_reply_while_soliciting_ignored(net):
    """A Reply (not an Advertise) to a Solicit: ignored (no Rapid Commit was asked for)."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Reply)
    survives(net, dut, srv, sol, 0)


@pytest.mark.rfc("8415 16")
def test_reply_from_another_server_to_the_request(net):
    """The Request named one server; a Reply with another Server Identifier is not its answer:
    the Request is retransmitted (the right server's Reply then binds)."""
    from dhcpv6kit import SRV2_MAC

    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    answer(srv, req, DHCP6_Reply, server_mac=SRV2_MAC)
    rt = dut.dhcpv6_lease().rt_ns
    again = expect_msg(srv, DHCP6_Request, within=T(rt + 1))
    assert again.time_ns == req.time_ns + rt
    assert dut.dhcpv6_lease().state == "REQUEST"
    answer(srv, again, DHCP6_Reply)
    net.run(for_="1us")
    assert dut.dhcpv6_lease().state == "BOUND"


@pytest.mark.rfc("8415 9")
def test_relay_message_type_refused(net):
    """A Relay-reply (13) sent to the client port: another header layout, refused."""
    dut, srv, sol = solicit(net)
    answer(srv, sol, DHCP6_Advertise, raw=b"\x0d\x00" + bytes(32) + good_advertise_bytes(sol)[4:])
    survives(net, dut, srv, sol, 0)


def test_garbage_survived(net):
    """Forty byte strings derived from the good Advertise (bit flips, cuts, random tails): the host
    survives all of them, with bounded work, and still takes the good Advertise after them."""
    import random

    dut, srv, sol = solicit(net)
    good = good_advertise_bytes(sol)
    rnd = random.Random(1234)
    for i in range(40):
        b = bytearray(good)
        if i % 3 == 0:
            b = b[:rnd.randrange(len(b))]
        elif i % 3 == 1:
            b[rnd.randrange(4, len(b))] ^= 1 << rnd.randrange(8)
        else:
            b += bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 20)))
        b[1:4] = good[1:4]  # keep the transaction ID so that they reach the option parser
        answer(srv, sol, DHCP6_Advertise, raw=bytes(b))
        net.run(for_="1ms")
    # whatever those did, the client is still soliciting or requesting, and answers a good message
    state = dut.dhcpv6_lease().state
    assert state in ("SOLICIT", "REQUEST")
    if state == "SOLICIT":
        answer(srv, sol, DHCP6_Advertise, pref=255)
        expect_msg(srv, DHCP6_Request, within=T(SOL_MAX_DELAY + 2 * S))
