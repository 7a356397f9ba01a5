import pytest

from pipeline.upn import check_letter, make_upn, upn_problem


@pytest.mark.parametrize("upn", ["H801200001001", "B801200005001", "G80120000101A"])
def test_documented_examples_are_valid(upn: str) -> None:
    assert upn_problem(upn) is None


@pytest.mark.parametrize(
    ("upn", "problem"),
    [
        ("Z801200001001", "UPN check letter should be H, not Z"),
        ("H8012000010", "UPN should have 13 characters, has 11"),
        ("I801200001001", "UPN should be a letter, 11 digits, then a digit or letter (no I, O or S)"),
        ("H80120000100S", "UPN should be a letter, 11 digits, then a digit or letter (no I, O or S)"),
        ("1.23457E+12xx", "UPN should be a letter, 11 digits, then a digit or letter (no I, O or S)"),
    ],
)
def test_problems_are_named_in_plain_words(upn: str, problem: str) -> None:
    assert upn_problem(upn) == problem


def test_make_upn_builds_permanent_and_temporary_numbers() -> None:
    assert make_upn(801, 2000, 2001, 1) == "H801200001001"
    assert make_upn(801, 2000, 1, "01A") == "G80120000101A"


def test_check_letter_rejects_a_body_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="12 characters"):
        check_letter("80120000100")
