"""`e_value` against the examples published by VanderWeele & Ding (2017) and the closed forms of their paper.

Each reference is labelled by its source:

* "published": numbers printed in VanderWeele & Ding (2017), Annals of Internal Medicine 167:268-274;
* "paper's input, closed form": an example of the paper whose inputs are used (as in the R package EValue's
  own tests, mayamathur/evalue_package, EValue/tests/testthat/testthat.R, "Annals, Further Examples #1"),
  with the expected value computed here from the formula, not read from the paper;
* "closed form": E = RR + sqrt(RR (RR - 1)) and the conversions of the paper's Table 2, evaluated in the
  test (the cases mirror those of the EValue package's tests).
"""

from __future__ import annotations

import json
import math

import pytest

from moclab.analysis import EValueResult, e_value
from moclab.errors import DataError


def closed_form(rr: float, true: float = 1.0) -> float:
    ratio = rr / true if rr / true >= 1 else true / rr
    return ratio + math.sqrt(ratio * (ratio - 1))


def hr_to_rr(hr: float) -> float:
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def test_published_breastfeeding_example() -> None:
    """Published: RR 3.9 (95% CI 1.8 to 8.7) has E-value 7.26 and 3.00 for the lower limit."""
    result = e_value(3.9, 1.8, 8.7)
    assert isinstance(result, EValueResult)
    assert result.point == pytest.approx(7.26, abs=0.005)
    assert result.limit == pytest.approx(3.00, abs=0.005)
    assert result.limit_side == "lower" and result.ci_includes_true is False
    # closed form, to machine precision
    assert result.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-14)
    assert result.limit == pytest.approx(1.8 + math.sqrt(1.8 * 0.8), rel=1e-14)


def test_protective_version_is_symmetric() -> None:
    """Closed form: the E-value of 1/RR equals that of RR; the upper limit is then the one closest to 1."""
    result = e_value(1 / 3.9, 1 / 8.7, 1 / 1.8)
    assert result.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)
    assert result.limit == pytest.approx(1.8 + math.sqrt(1.8 * 0.8), rel=1e-12)
    assert result.limit_side == "upper"


def test_paper_further_example_protective_risk_ratio() -> None:
    """Paper's input, closed form: RR 0.80 (0.71 to 0.91): E = 1/0.8 + sqrt(1/0.8 (1/0.8 - 1)) ≈ 1.81 and,
    for the upper limit, 1/0.91 + sqrt(...) ≈ 1.43."""
    result = e_value(0.80, 0.71, 0.91)
    assert result.point == pytest.approx(closed_form(1 / 0.8), rel=1e-14)
    assert result.limit == pytest.approx(closed_form(1 / 0.91), rel=1e-14)
    assert (round(result.point, 2), round(result.limit, 2)) == (1.81, 1.43)


def test_interval_including_the_null_gives_one() -> None:
    """Closed form (the paper's rule): an interval that includes the null has E-value 1."""
    assert e_value(1.3, 0.9, 1.8).limit == 1.0
    assert e_value(0.7, 0.4, 1.2).limit == 1.0
    assert e_value(1.3, 1.0, 1.8).limit == 1.0  # limit exactly at the null
    assert e_value(1.0, 0.8, 1.2).point == 1.0


def test_point_only_has_no_limit() -> None:
    result = e_value(2.0)
    assert result.point == pytest.approx(2 + math.sqrt(2), rel=1e-14)
    assert result.limit is None and result.limit_side is None and result.ci_includes_true is None
    assert e_value(2.0, ci_high=3.0).limit is None  # the limit closest to the null was not given


@pytest.mark.parametrize(
    ("estimate", "low", "high", "true", "point", "limit"),
    [
        # closed form; true below the lower limit, at it, between it and the estimate, and beyond the estimate
        (1.3, 1.1, 1.4, 1.05, closed_form(1.3, 1.05), closed_form(1.1, 1.05)),
        (1.3, 1.1, 1.4, 1.1, closed_form(1.3, 1.1), 1.0),
        (1.3, 1.1, 1.4, 1.2, closed_form(1.3, 1.2), 1.0),
        (1.3, 1.1, 1.4, 1.5, closed_form(1.5 / 1.3), closed_form(1.5 / 1.4)),
        (0.6, 0.5, 0.7, 0.4, closed_form(0.6 / 0.4), closed_form(0.5 / 0.4)),
        (0.6, 0.5, 0.7, 0.75, closed_form(0.75 / 0.6), closed_form(0.75 / 0.7)),
    ],
)
def test_non_null_true_values(estimate, low, high, true, point, limit) -> None:
    result = e_value(estimate, low, high, true=true)
    assert result.point == pytest.approx(point, rel=1e-12)
    assert result.limit == pytest.approx(limit, rel=1e-12)


def test_odds_ratio_conversions() -> None:
    """Closed form: a rare outcome's OR is used as an RR; a common outcome's OR becomes sqrt(OR), also for
    the limits and the true value."""
    rare = e_value(5.0, scale="OR", rare=True)
    assert rare.rr == 5.0 and rare.point == pytest.approx(5 + math.sqrt(20), rel=1e-14)
    common = e_value(5.0, 3.0, 8.0, scale="OR", true=2.0)
    assert common.rr == pytest.approx(math.sqrt(5), rel=1e-14)
    expected = (math.sqrt(5) + math.sqrt(math.sqrt(5) * (math.sqrt(5) - math.sqrt(2)))) / math.sqrt(2)
    assert common.point == pytest.approx(expected, rel=1e-12)
    expected_low = (math.sqrt(3) + math.sqrt(math.sqrt(3) * (math.sqrt(3) - math.sqrt(2)))) / math.sqrt(2)
    assert common.limit == pytest.approx(expected_low, rel=1e-12)


def test_hazard_ratio_conversions() -> None:
    """Closed form: a common outcome's HR becomes (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (the paper's
    Table 2; VanderWeele 2020), a rare outcome's HR is used as it is."""
    common = e_value(1.3, 1.2, 1.4, scale="HR", true=1.1)
    rr, rr_low, rr_true = hr_to_rr(1.3), hr_to_rr(1.2), hr_to_rr(1.1)
    assert common.rr == pytest.approx(rr, rel=1e-14)
    assert common.point == pytest.approx((rr + math.sqrt(rr * (rr - rr_true))) / rr_true, rel=1e-12)
    assert common.limit == pytest.approx(
        (rr_low + math.sqrt(rr_low * (rr_low - rr_true))) / rr_true, rel=1e-12
    )
    rare = e_value(0.3, scale="HR", rare=True, true=0.4)
    assert rare.point == pytest.approx(
        (1 / 0.3 + math.sqrt(1 / 0.3 * (1 / 0.3 - 1 / 0.4))) / (1 / 0.4), rel=1e-12
    )


def test_standardized_mean_difference() -> None:
    """Closed form: RR = exp(0.91 d) with interval exp(0.91 d ± 1.78 SE) and true value exp(0.91 true)."""
    d, se, true = 0.5, 0.2, 0.1
    result = e_value(d, scale="SMD", se=se, true=true)
    rr, rr_true, rr_low = math.exp(0.91 * d), math.exp(0.91 * true), math.exp(0.91 * d - 1.78 * se)
    assert result.rr == pytest.approx(rr, rel=1e-14)
    assert result.point == pytest.approx((rr + math.sqrt(rr * (rr - rr_true))) / rr_true, rel=1e-12)
    assert result.limit == pytest.approx(
        (rr_low + math.sqrt(rr_low * (rr_low - rr_true))) / rr_true, rel=1e-12
    )
    assert result.rr_high == pytest.approx(math.exp(0.91 * d + 1.78 * se), rel=1e-14)

    preventive = e_value(-0.5, scale="SMD", se=0.4, true=-0.1)  # the interval crosses the true value
    rr, rr_true = math.exp(-0.91 * 0.5), math.exp(-0.91 * 0.1)
    assert preventive.point == pytest.approx(
        (1 / rr + math.sqrt(1 / rr * (1 / rr - 1 / rr_true))) / (1 / rr_true), rel=1e-12
    )
    assert preventive.limit == 1.0 and preventive.limit_side == "upper"
    assert e_value(0.3, scale="SMD").true == 0.0  # the default null on the SMD scale


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((-0.1,), {}, "estimate must be a positive RR"),
        ((1.2, 1.3, 1.4), {}, "lies outside its confidence interval"),
        ((0.8, 0.3, 0.7), {}, "lies outside its confidence interval"),
        ((1.2, 1.4, 1.1), {}, "is above ci_high"),
        ((1.2,), {"scale": "RD"}, "scale must be one of"),
        ((1.2,), {"se": 0.1}, "se is used only for scale='SMD'"),
        ((0.4, 0.1, 0.7), {"scale": "SMD"}, "give the standard error of d"),
        ((0.4,), {"scale": "SMD", "se": -1}, "se must not be negative"),
        ((float("nan"),), {}, "estimate must be a finite number"),
        (("big",), {}, "estimate must be a number"),
        ((1.2,), {"true": 0}, "true must be a positive RR"),
    ],
)
def test_bad_input_raises_data_error(args, kwargs, message) -> None:
    with pytest.raises(DataError) as raised:
        e_value(*args, **kwargs)
    assert message in str(raised.value)


def test_result_prints_and_serializes() -> None:
    result = e_value(3.9, 1.8, 8.7)
    assert "7.26" in str(result) and "lower confidence limit: 3" in str(result)
    assert repr(result) == "EValueResult(e_value = 7.263; e_value_limit = 3; rr = 3.9 [1.8, 8.7])"
    assert list(result.to_frame().index) == ["rr", "e_value", "e_value_limit"]
    assert "<table" in result._repr_html_() and result.plot().get_lines()
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["type"] == "EValueResult" and payload["point"] == pytest.approx(result.point)
    with pytest.raises(AttributeError):
        result.point = 1.0  # frozen
