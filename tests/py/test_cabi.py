"""pyharness.cabi: the helpers plug-in DUTs with a C ABI share (duts/lwip, duts/smoltcp)."""

import pytest

from pyharness.cabi import WOULD_BLOCK, ipv4_int, ipv4_text
from pyharness.errors import ConfigError


def test_ipv4_crosses_the_abi_as_a_host_order_integer():
    assert ipv4_int("10.0.0.1") == 0x0A000001
    assert ipv4_text(0x0A000001) == "10.0.0.1"
    assert ipv4_text(0) is None  # 0: no address


def test_a_bad_address_is_named():
    with pytest.raises(ConfigError, match="not an IPv4 address: '10.0.0'"):
        ipv4_int("10.0.0")


def test_would_block_is_the_stack_error_code():
    assert WOULD_BLOCK == -23  # TERN_ERR_WOULD_BLOCK in stack/include/tern/errors.h, as the C ABIs return it
