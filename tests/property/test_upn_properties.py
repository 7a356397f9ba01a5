from hypothesis import given
from hypothesis import strategies as st

from pipeline.upn import CHECK_ALPHABET, make_upn, upn_problem

serials = st.one_of(
    st.integers(0, 999),
    st.tuples(st.integers(0, 99), st.sampled_from(CHECK_ALPHABET)).map(lambda t: f"{t[0]:02d}{t[1]}"),
)


@given(st.integers(0, 999), st.integers(0, 9999), st.integers(0, 99), serials)
def test_every_made_upn_is_valid(la: int, establishment: int, year: int, serial: int | str) -> None:
    assert upn_problem(make_upn(la, establishment, year, serial)) is None


@given(st.integers(0, 999), st.integers(0, 9999), st.integers(0, 99), st.integers(0, 999), st.data())
def test_any_other_check_letter_is_caught(
    la: int, establishment: int, year: int, serial: int, data: st.DataObject
) -> None:
    upn = make_upn(la, establishment, year, serial)
    wrong = data.draw(st.sampled_from([c for c in CHECK_ALPHABET if c != upn[0]]))
    assert upn_problem(wrong + upn[1:]) == f"UPN check letter should be {upn[0]}, not {wrong}"


@given(st.integers(0, 999), st.integers(0, 9999), st.integers(0, 99), st.integers(0, 999), st.integers(1, 12))
def test_a_changed_digit_is_caught_unless_the_sum_happens_to_match(
    la: int, establishment: int, year: int, serial: int, position: int
) -> None:
    upn = make_upn(la, establishment, year, serial)
    digit = int(upn[position])
    changed = upn[:position] + str((digit + 1) % 10) + upn[position + 1 :]
    # Weight (position + 1) times a change of +1 or -9 is never a multiple of 23 for weights 2..13.
    assert upn_problem(changed) is not None
