"""Human units: every unit, plain numbers, and the errors."""

import math

import pytest

from pyharness.errors import ConfigError
from pyharness.units import (
    RATE_UNITS,
    SIZE_UNITS,
    TIME_UNITS,
    parse_probability,
    parse_rate,
    parse_size,
    parse_time,
)


@pytest.mark.parametrize(
    "text, ns",
    [
        ("10ns", 10),
        ("250us", 250_000),
        ("250µs", 250_000),
        ("10ms", 10_000_000),
        ("1.5s", 1_500_000_000),
        ("2min", 120_000_000_000),
        ("1h", 3_600_000_000_000),
        ("0.1s", 100_000_000),
        ("1e-3s", 1_000_000),
        (" 3 ms ", 3_000_000),
        ("2", 2_000_000_000),
        ("0", 0),
    ],
)
def test_time_units(text, ns):
    assert parse_time(text) == ns


def test_time_plain_numbers_are_seconds():
    assert parse_time(1) == 1_000_000_000
    assert parse_time(0.1) == 100_000_000  # exact, no float drift
    assert parse_time(1e-9) == 1
    assert parse_time(0.3) == 300_000_000


def test_time_rounds_to_nearest_ns():
    assert parse_time("1.4ns") == 1
    assert parse_time("1.6ns") == 2


def test_every_time_unit_is_tested():
    assert set(TIME_UNITS) == {"ns", "us", "µs", "ms", "s", "min", "h"}


@pytest.mark.parametrize(
    "text, bps",
    [
        ("64bit", 64),
        ("64kbit", 64_000),
        ("10Mbit", 10_000_000),
        ("10mbit", 10_000_000),
        ("1Gbit", 1_000_000_000),
        ("1.5Mbit", 1_500_000),
        ("2Tbit", 2 * 10**12),
        ("1Kibit", 1024),
        ("1Mibit", 2**20),
        ("1Gibit", 2**30),
        ("1Tibit", 2**40),
        ("9600", 9600),
    ],
)
def test_rate_units(text, bps):
    assert parse_rate(text) == bps


def test_every_rate_unit_is_tested():
    assert set(RATE_UNITS) == {"bit", "kbit", "mbit", "gbit", "tbit", "kibit", "mibit", "gibit", "tibit"}


def test_rate_plain_number_is_bits_per_second():
    assert parse_rate(1_000_000) == 1_000_000
    assert parse_rate(1e6) == 1_000_000


@pytest.mark.parametrize(
    "text, n",
    [
        ("1500B", 1500),
        ("32KB", 32_000),
        ("32kB", 32_000),
        ("1MB", 10**6),
        ("2GB", 2 * 10**9),
        ("1TB", 10**12),
        ("1KiB", 1024),
        ("1MiB", 1_048_576),
        ("1GiB", 2**30),
        ("1TiB", 2**40),
        ("1.5KB", 1500),
        ("64", 64),
    ],
)
def test_size_units(text, n):
    assert parse_size(text) == n


def test_every_size_unit_is_tested():
    assert set(SIZE_UNITS) == {"B", "kB", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"}


def test_kb_is_decimal_kib_is_binary():
    assert parse_size("1KB") == 1000
    assert parse_size("1KiB") == 1024


def test_probabilities():
    assert parse_probability(0.25) == 0.25
    assert parse_probability("1%") == 0.01
    assert parse_probability("0.5") == 0.5
    assert parse_probability(1) == 1.0


@pytest.mark.parametrize(
    "fn, value, known",
    [
        (parse_time, "10furlongs", ["ns", "us", "ms", "s", "min"]),
        (parse_time, "2m", ["ns", "ms", "s", "min"]),
        (parse_rate, "10Mbps", ["bit", "kbit", "Mbit", "Gbit"]),
        (parse_rate, "10MB", ["kbit", "Mbit"]),
        (parse_size, "32kb", ["B", "KB", "KiB", "MiB"]),
        (parse_size, "32XB", ["B", "KB", "KiB"]),
    ],
)
def test_unknown_unit_lists_known_units(fn, value, known):
    with pytest.raises(ConfigError) as e:
        fn(value, "myparam")
    msg = str(e.value)
    assert "myparam" in msg and repr(value) in msg
    for unit in known:
        assert unit in msg


def test_bps_hint():
    with pytest.raises(ConfigError, match="ambiguous"):
        parse_rate("10Mbps", "rate")


@pytest.mark.parametrize("fn", [parse_time, parse_rate, parse_size])
@pytest.mark.parametrize("value", [-1, -0.5, "-3", "-10ms", math.nan, math.inf, "nan", "", "ms", True, None, [1]])
def test_bad_values_name_the_parameter(fn, value):
    with pytest.raises(ConfigError) as e:
        fn(value, "the_param")
    assert "the_param" in str(e.value)


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, "200%", "x", None])
def test_bad_probabilities(value):
    with pytest.raises(ConfigError) as e:
        parse_probability(value, "loss")
    assert "loss" in str(e.value)


def test_fractional_bits_and_bytes_are_refused():
    with pytest.raises(ConfigError, match="whole number"):
        parse_rate("1.5bit", "rate")
    with pytest.raises(ConfigError, match="whole number"):
        parse_size("1.5B", "size")


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_time("1 parsec")
