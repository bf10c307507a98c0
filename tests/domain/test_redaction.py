"""Tests for the redaction of service-user identifiers before practitioner text is stored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain.redaction import IdentifierKind, Redacted, is_valid_nhs_number, redact

K = IdentifierKind
CORPUS = Path(__file__).with_name("redaction_corpus.jsonl")


def kinds(result: Redacted) -> dict[str, int]:
    """Return the counts keyed by the kind's string value, as the corpus writes them."""
    return {kind.value: n for kind, n in result.counts.items()}


# --- IdentifierKind and Redacted -----------------------------------------------------


def test_kind_labels() -> None:
    assert K.NHS_NUMBER.placeholder == "[NHS number]"
    assert K.NI_NUMBER.placeholder == "[NI number]"
    assert K.POSTCODE.placeholder == "[postcode]"
    assert K.PHONE.placeholder == "[phone number]"
    assert K.EMAIL.placeholder == "[email]"
    assert K.DATE_OF_BIRTH.placeholder == "[date of birth]"
    assert (K.NI_NUMBER.singular, K.NI_NUMBER.plural) == (
        "National Insurance number",
        "National Insurance numbers",
    )
    assert (K.EMAIL.singular, K.EMAIL.plural) == ("e-mail address", "e-mail addresses")
    assert (K.DATE_OF_BIRTH.singular, K.DATE_OF_BIRTH.plural) == (
        "date of birth",
        "dates of birth",
    )
    assert K.POSTCODE.describe(2) == "2 postcodes"
    assert K("nhs_number") is K.NHS_NUMBER


def test_summary_wording_and_order() -> None:
    one_each = Redacted("x", MappingProxyType({K.PHONE: 1, K.NHS_NUMBER: 1}))
    assert one_each.summary() == "We removed 1 NHS number and 1 phone number before saving."
    mixed = Redacted("x", MappingProxyType({K.NHS_NUMBER: 1, K.EMAIL: 1, K.POSTCODE: 2}))
    assert mixed.summary() == (
        "We removed 2 postcodes, 1 e-mail address and 1 NHS number before saving."
    )
    assert mixed.total == 4
    single = Redacted("x", MappingProxyType({K.DATE_OF_BIRTH: 3}))
    assert single.summary() == "We removed 3 dates of birth before saving."


def test_nothing_removed() -> None:
    result = redact("We met at 10:30 and talked about the rent.")
    assert result.text == "We met at 10:30 and talked about the rent."
    assert result.total == 0
    assert dict(result.counts) == {}
    assert result.summary() == ""
    assert redact("").text == ""


def test_summary_from_redact() -> None:
    result = redact("NHS 943 476 5919, ring 07700 900123.")
    assert result.text == "NHS [NHS number], ring [phone number]."
    assert result.summary() == "We removed 1 NHS number and 1 phone number before saving."


# --- NHS numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["943 476 5919", "9434765919", "943-476-5919", "999 590 8301", "9996613186"]
)
def test_nhs_number_removed(number: str) -> None:
    result = redact(f"Patient NHS {number} on ward 4.")
    assert result.text == "Patient NHS [NHS number] on ward 4."
    assert kinds(result) == {"nhs_number": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Patient NHS 943 476 5910 on ward 4.",  # wrong check digit
        "Patient NHS 9434765918 on ward 4.",  # wrong check digit
        "Reference 19434765919 is eleven digits.",  # valid ten digits inside a longer run
        "Reference 94347659190 is eleven digits.",
        "Ten digits with a check of 10: 123 456 7890.",  # check digit would be 10
        "Grouped 9434 765 919 is not a 3-3-4 grouping.",
    ],
)
def test_nhs_number_left(text: str) -> None:
    assert redact(text).text == text


def test_nhs_checksum() -> None:
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("943476591")
    assert not is_valid_nhs_number("94347659a9")
    assert is_valid_nhs_number("4010232137")  # remainder 0: check digit 11 -> 0


def test_nhs_number_is_not_also_a_phone_number() -> None:
    # 0193583291 passes Modulus 11 and libphonenumber also takes it for a valid landline:
    # it must be counted once, as an NHS number.
    result = redact("CHI/NHS 0193583291 and mobile 07700 900123.")
    assert result.text == "CHI/NHS [NHS number] and mobile [phone number]."
    assert kinds(result) == {"nhs_number": 1, "phone": 1}


# --- National Insurance numbers -----------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "AB123456C",
        "AB 12 34 56 C",
        "ab123456c",
        "jt 48 21 90 b",
        "CE 527103 A",
        "AB 12 34 56",  # suffix left off, but written in HMRC's pairs style
    ],
)
def test_ni_number_removed(number: str) -> None:
    result = redact(f"Her NI is {number} and the claim is open.")
    assert result.text == "Her NI is [NI number] and the claim is open."
    assert kinds(result) == {"ni_number": 1}


def test_ni_number_without_suffix_needs_a_cue() -> None:
    assert redact("NI number JT123456 confirmed.").text == "NI number [NI number] confirmed."
    assert redact("National Insurance: JT123456.").text == "National Insurance: [NI number]."
    assert redact("Case ref JT123456 closed.").text == "Case ref JT123456 closed."
    # One cue covers the number straight after it, not every reference in the sentence.
    assert kinds(redact("NI JT123456, housing ref CR123456.")) == {"ni_number": 1}


def test_ni_lowercase_article_after_number_is_kept() -> None:
    result = redact("NI AB 12 34 56 a new claim was made.")
    assert result.text == "NI [NI number] a new claim was made."


@pytest.mark.parametrize(
    "text",
    [
        "Number DA123456C is not valid: D cannot start a prefix.",
        "Number AO123456C is not valid: O cannot be second.",
        "Number GB123456A uses a prefix that is never issued.",
        "Number ZZ123456A uses a prefix that is never issued.",
        "Number AB123456E has an impossible suffix.",
        "Claim ref XAB123456C is part of a longer code.",
        "Ticket AB1234567C has seven digits.",
        "at 12 34 56 the lowercase prefix needs a suffix",
    ],
)
def test_ni_number_left(text: str) -> None:
    assert redact(text).text == text


# --- postcodes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "postcode",
    [
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "W1A 0AX",
        "EC1A 1BB",
        "GIR 0AA",
        "sw1a 1aa",
        "LS62QT",
        "B1 2ND",
    ],
)
def test_postcode_removed(postcode: str) -> None:
    result = redact(f"She moved to {postcode} last week.")
    assert result.text == "She moved to [postcode] last week."
    assert kinds(result) == {"postcode": 1}


@pytest.mark.parametrize(
    "text",
    [
        "The clinic is in BA1, near the station.",  # outward code alone is a place
        "Seen at 10am and 3pm in LS6.",
        "Room B1 2nd floor, then bed 3rd from the window.",
        "Postcode M1 1CE has an inward letter (C) that is never used.",
        "Code QA1 1AA starts with Q, which no postcode does.",
        "The form AB12 3CD has a C in the inward code.",
        "Part number XM11AEZ is not a postcode.",
    ],
)
def test_postcode_left(text: str) -> None:
    assert redact(text).text == text


# --- phone numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",  # Ofcom drama range: libphonenumber does not know it
        "07700900123",
        "07700-900-123",
        "07700 900 123",
        "07700  900123",  # double space typed by mistake
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "0117 496 0123",
        "(0117) 496 0123",
        "020 7946 0123",
        "(020) 7946 0123",
        "+44 (0)20 7946 0123",
        "+44 20 7946 0123",
        "0161 496 0927",
        "01632 960123",
        "0300 123 4567",
        "07911 123456",
        "0800 123 4567",  # 08: only libphonenumber knows this one
    ],
)
def test_phone_removed(number: str) -> None:
    result = redact(f"Ring her on {number} after 5.")
    assert result.text == "Ring her on [phone number] after 5."
    assert kinds(result) == {"phone": 1}


def test_phone_in_brackets_keeps_the_brackets() -> None:
    assert redact("(07700 900123)").text == "([phone number])"
    assert redact("(tel 07700 900123)").text == "(tel [phone number])"


@pytest.mark.parametrize(
    "text",
    [
        "Meeting at 14:30, then 2.30pm, then 09:15 tomorrow.",
        "In 2026 we saw 10 people, 3 of 12 attended.",
        "Paid £1,250.00 of £300 and £12,000 over 18 months.",
        "Ward 7, bed 12, room 2B, 45% and 12.5% of cases.",
        "Seen 12/03/2026 and 2026-03-12 and 01-02-2026 at 10.",
        "Case 0123456 and ticket 48213 and ref 01234567.",
        "Bus 43 and the X39 every 15 minutes.",
        "Scores 01 02 2026 10 30 are not a phone.",
        "An 8-digit number 01179460 is too short.",
        "Twelve digits 077009001234 are too long for a UK number.",
        "Decimal 1.07700900123 is a measurement.",
    ],
)
def test_ordinary_numbers_left(text: str) -> None:
    assert redact(text).text == text


# --- e-mail addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "jo@example.com",
        "jo.bloggs87@example.org",
        "first_last+tag@example.co.uk",
        "duty-team@sub.example.gov.uk",
        "J.Smith@Example.NET",
    ],
)
def test_email_removed(address: str) -> None:
    result = redact(f"Write to {address}.")
    assert result.text == "Write to [email]."
    assert kinds(result) == {"email": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Send it @ 3pm please.",
        "The handle @outreach_team is not an address.",
        "jo@localhost has no domain suffix.",
        "Two at signs jo@@example.com.",
    ],
)
def test_email_left(text: str) -> None:
    assert redact(text).text == text


def test_email_digits_are_not_a_phone_or_nhs_number() -> None:
    result = redact("Mail 07700900123@example.com or 9434765919@example.org.")
    assert kinds(result) == {"email": 2}


# --- dates of birth -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DOB 12/03/1987, seen today.", "DOB [date of birth], seen today."),
        ("DOB: 12.03.87 on the form.", "DOB: [date of birth] on the form."),
        ("D.O.B. 3 March 1987.", "D.O.B. [date of birth]."),
        ("Date of birth is 1987-03-12.", "Date of birth is [date of birth]."),
        ("She was born on March 3rd 1987.", "She was born on [date of birth]."),
        ("Born on the 3rd of March 1987.", "Born on the [date of birth]."),
        ("Born in Leeds on 3 Mar 1987.", "Born in Leeds on [date of birth]."),
        ("dob (per GP) 1/1/90", "dob (per GP) [date of birth]"),
    ],
)
def test_date_of_birth_removed(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert kinds(result) == {"date_of_birth": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Seen on 12/03/2026 and again on 3 March 2026.",
        "Born and raised in Hull, moved here on 3 March 2014.",  # too many words between
        "He was born. On 3 March 2026 he was evicted.",  # the sentence ended
        "The newborn was seen on 3 March 2026.",
        "Born in 1987, he has been homeless since 2019.",  # a year alone is not a date
        "DOB not known; review booked for 12/03/2026 at 10.",
    ],
)
def test_date_of_birth_left(text: str) -> None:
    assert redact(text).text == text


# --- interplay ----------------------------------------------------------------------


def test_everything_at_once_keeps_the_surrounding_text() -> None:
    text = (
        "Client (NHS 943 476 5919, NI AB 12 34 56 C, DOB 12/03/1987) lives at M1 1AE; "
        "mobile 07700 900123, email jo@example.com. Seen 14:30 on ward 7."
    )
    result = redact(text)
    assert result.text == (
        "Client (NHS [NHS number], NI [NI number], DOB [date of birth]) lives at [postcode]; "
        "mobile [phone number], email [email]. Seen 14:30 on ward 7."
    )
    assert result.total == 6
    assert result.summary() == (
        "We removed 1 date of birth, 1 e-mail address, 1 National Insurance number, "
        "1 NHS number, 1 phone number and 1 postcode before saving."
    )


def test_redaction_is_idempotent() -> None:
    once = redact("NHS 943 476 5919, 07700 900123, M1 1AE, jo@example.com").text
    assert redact(once).text == once
    assert redact(once).total == 0


@pytest.mark.parametrize(
    "text",
    [
        "born " + "word " * 2000,
        "DOB " + "x, " * 2000 + "12/03/1987",
        "a" * 20000 + "@",
        "0 " * 5000,
        "1" * 20000,
        "AB 12 " * 3000,
        "M1 " * 5000,
    ],
)
def test_pathological_input_is_read_as_prose(text: str) -> None:
    # Shapes that would make a careless pattern backtrack; none of them is an identifier.
    # How their cost grows with length is measured in bench/redaction_pathological.py.
    assert redact(text) == Redacted(text=text)


# --- property-based -----------------------------------------------------------------

FILLER = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.;:!?'\"-"),
    max_size=40,
)
BEFORE = st.sampled_from([" ", "\n", ": ", " (", " - "])
AFTER = st.sampled_from([" ", "\n", ", ", ". ", ") ", "; "])
DIGIT = st.sampled_from("0123456789")


def nhs_check_digit(first_nine: str) -> int:
    """Return the Modulus 11 check digit, or 10 when no valid number has these digits."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return 0 if check == 11 else check


def format_nhs(digits: str, style: str) -> str:
    """Write ten digits in one of the ways practitioners do."""
    if style == "plain":
        return digits
    sep = " " if style == "spaced" else "-"
    return f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}"


NHS_STYLE = st.sampled_from(["plain", "spaced", "hyphen"])


@st.composite
def valid_nhs_numbers(draw: st.DrawFn) -> str:
    first_nine = "".join(draw(st.lists(DIGIT, min_size=9, max_size=9)))
    check = nhs_check_digit(first_nine)
    assume(check != 10)
    return format_nhs(first_nine + str(check), draw(NHS_STYLE))


@st.composite
def invalid_nhs_numbers(draw: st.DrawFn) -> str:
    # A leading 1-9 keeps these from being a UK phone number (which starts with 0).
    first_nine = draw(st.sampled_from("123456789")) + "".join(
        draw(st.lists(DIGIT, min_size=8, max_size=8))
    )
    check = nhs_check_digit(first_nine)
    last = draw(DIGIT.filter(lambda d: int(d) != check))
    return format_nhs(first_nine + last, draw(NHS_STYLE))


NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NI_BANNED = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


@st.composite
def ni_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(NI_FIRST)) + draw(st.sampled_from(NI_SECOND))
    assume(prefix not in NI_BANNED)
    d = "".join(draw(st.lists(DIGIT, min_size=6, max_size=6)))
    suffix = draw(st.sampled_from("ABCD"))
    if draw(st.booleans()):
        number = f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
    else:
        number = f"{prefix}{d}{suffix}"
    return number.lower() if draw(st.booleans()) else number


PC_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"
PC_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"
PC_THIRD = "ABCDEFGHJKPSTUW"
PC_FOURTH = "ABEHMNPRVWXY"
PC_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def postcodes(draw: st.DrawFn) -> str:
    def letter(pool: str) -> str:
        return draw(st.sampled_from(pool))

    def digit() -> str:
        return draw(DIGIT)

    shape = draw(st.sampled_from(["A9", "A99", "A9A", "AA9", "AA99", "AA9A"]))
    outward = {
        "A9": lambda: letter(PC_FIRST) + digit(),
        "A99": lambda: letter(PC_FIRST) + digit() + digit(),
        "A9A": lambda: letter(PC_FIRST) + digit() + letter(PC_THIRD),
        "AA9": lambda: letter(PC_FIRST) + letter(PC_SECOND) + digit(),
        "AA99": lambda: letter(PC_FIRST) + letter(PC_SECOND) + digit() + digit(),
        "AA9A": lambda: letter(PC_FIRST) + letter(PC_SECOND) + digit() + letter(PC_FOURTH),
    }[shape]()
    inward = digit() + letter(PC_INWARD) + letter(PC_INWARD)
    postcode = outward + draw(st.sampled_from([" ", ""])) + inward
    if draw(st.booleans()):
        # Lower-case ordinals ("b1 2nd") are deliberately read as prose.
        assume(inward[1:].lower() not in {"st", "nd", "rd", "th"})
        postcode = postcode.lower()
    return postcode


def digits(draw: st.DrawFn, n: int) -> str:
    return "".join(draw(st.lists(DIGIT, min_size=n, max_size=n)))


@st.composite
def uk_mobiles(draw: st.DrawFn) -> str:
    rest = digits(draw, 9)  # after "07"
    return draw(
        st.sampled_from(
            [
                f"07{rest}",
                f"07{rest[:3]} {rest[3:]}",
                f"07{rest[:3]} {rest[3:6]} {rest[6:]}",
                f"07{rest[:3]}-{rest[3:6]}-{rest[6:]}",
                f"+44 7{rest[:3]} {rest[3:]}",
                f"+447{rest}",
                f"+44 (0)7{rest[:3]} {rest[3:]}",
                f"0044 7{rest[:3]} {rest[3:]}",
            ]
        )
    )


@st.composite
def uk_landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from("123"))
    rest = digits(draw, 8)  # after "0" + area digit + one more
    second = draw(DIGIT)
    national = f"0{area}{second}{rest}"
    return draw(
        st.sampled_from(
            [
                national,
                f"{national[:5]} {national[5:]}",  # 01632 960123
                f"{national[:4]} {national[4:7]} {national[7:]}",  # 0117 496 0123
                f"{national[:3]} {national[3:7]} {national[7:]}",  # 020 7946 0123
                f"({national[:3]}) {national[3:7]} {national[7:]}",
                f"({national[:4]}) {national[4:7]} {national[7:]}",
                f"{national[:4]}-{national[4:7]}-{national[7:]}",
                f"+44 {national[1:3]} {national[3:7]} {national[7:]}",
                f"+44 (0){national[1:4]} {national[4:7]} {national[7:]}",
            ]
        )
    )


LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def emails(draw: st.DrawFn) -> str:
    def word(min_size: int = 1) -> str:
        return draw(st.text(alphabet=LOCAL_CHARS, min_size=min_size, max_size=10))

    local = word()
    if draw(st.booleans()):
        local += draw(st.sampled_from("._+-")) + word()
    labels = [word() for _ in range(draw(st.integers(1, 3)))]
    tld = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6))
    address = f"{local}@{'.'.join(labels)}.{tld}"
    return address.upper() if draw(st.booleans()) else address


PROPERTY_SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])


def assert_removed(kind: IdentifierKind, identifier: str, parts: tuple[str, str, str, str]) -> None:
    before_text, before, after, after_text = parts
    result = redact(before_text + before + identifier + after + after_text)
    assert result.text == before_text + before + kind.placeholder + after + after_text
    assert dict(result.counts) == {kind: 1}


SURROUNDINGS = st.tuples(FILLER, BEFORE, AFTER, FILLER)


@PROPERTY_SETTINGS
@given(valid_nhs_numbers(), SURROUNDINGS)
def test_property_valid_nhs_numbers_removed(number: str, parts: Any) -> None:
    assert_removed(K.NHS_NUMBER, number, parts)


@PROPERTY_SETTINGS
@given(invalid_nhs_numbers(), SURROUNDINGS)
def test_property_invalid_nhs_numbers_left(number: str, parts: Any) -> None:
    before_text, before, after, after_text = parts
    text = before_text + before + number + after + after_text
    result = redact(text)
    assert result.text == text
    assert result.total == 0


@PROPERTY_SETTINGS
@given(ni_numbers(), SURROUNDINGS)
def test_property_ni_numbers_removed(number: str, parts: Any) -> None:
    assert_removed(K.NI_NUMBER, number, parts)


@PROPERTY_SETTINGS
@given(postcodes(), SURROUNDINGS)
def test_property_postcodes_removed(postcode: str, parts: Any) -> None:
    assert_removed(K.POSTCODE, postcode, parts)


@PROPERTY_SETTINGS
@given(st.one_of(uk_mobiles(), uk_landlines()), SURROUNDINGS)
def test_property_uk_phone_numbers_removed(number: str, parts: Any) -> None:
    assert_removed(K.PHONE, number, parts)


@PROPERTY_SETTINGS
@given(emails(), SURROUNDINGS)
def test_property_emails_removed(address: str, parts: Any) -> None:
    assert_removed(K.EMAIL, address, parts)


WORDS = st.sampled_from(
    ["we", "saw", "the", "client", "at", "on", "ward", "and", "then", "paid", "for", "about"]
)


@st.composite
def ordinary_numbers(draw: st.DrawFn) -> str:
    n = st.integers
    hour, minute = draw(n(0, 23)), draw(n(0, 59))
    day, month, year = draw(n(1, 28)), draw(n(1, 12)), draw(n(1950, 2099))
    pounds = draw(n(0, 99999))
    choices = [
        f"{hour:02d}:{minute:02d}",  # 14:30, 07:45
        f"{draw(n(1, 12))}.{minute:02d}{draw(st.sampled_from(['am', 'pm']))}",
        str(year),
        f"£{pounds:,}",
        f"£{pounds:,}.{draw(n(0, 99)):02d}",
        f"{draw(n(1, 500))} people",
        f"{draw(n(1, 12))} of {draw(n(1, 40))}",
        f"Ward {draw(n(1, 40))}",
        f"bed {draw(n(1, 30))}",
        f"{draw(n(0, 100))}%",
        f"{draw(n(0, 99))}.{draw(n(0, 9))}%",
        f"{day:02d}/{month:02d}/{year}",
        f"{day}.{month}.{year % 100:02d}",
        f"{year}-{month:02d}-{day:02d}",
        f"{day} March {year}",
        f"aged {draw(n(16, 99))}",
        f"bus {draw(n(1, 99))}",
        # Reference numbers shorter than a phone number, leading zeros and all.
        draw(st.text(alphabet="0123456789", min_size=1, max_size=8)),
    ]
    return draw(st.sampled_from(choices))


@settings(max_examples=300)
@given(st.lists(st.tuples(WORDS, ordinary_numbers()), min_size=1, max_size=12), WORDS)
def test_property_ordinary_numbers_left(pairs: list[tuple[str, str]], last: str) -> None:
    text = " ".join(f"{word} {number}" for word, number in pairs) + f" {last}."
    result = redact(text)
    assert result.text == text
    assert result.total == 0


# --- labelled corpus ----------------------------------------------------------------


def load_corpus() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if row]


CORPUS_ROWS = load_corpus()


def test_corpus_is_big_and_balanced() -> None:
    assert len(CORPUS_ROWS) >= 200
    assert sum(1 for row in CORPUS_ROWS if not row["expected"]) >= 80
    valid_kinds = {kind.value for kind in IdentifierKind}
    for row in CORPUS_ROWS:
        assert set(row["expected"]) <= valid_kinds
        # Ofcom drama ranges and NHS test numbers only: nothing that could be a real person.
        for identifier in row.get("identifiers", []):
            digits = re.sub(r"\D", "", identifier)
            if len(digits) == 10 and row["expected"].get("nhs_number"):
                assert digits.startswith("999") or not is_valid_nhs_number(digits)


@pytest.mark.parametrize("row", CORPUS_ROWS, ids=[f"line{i + 1}" for i in range(len(CORPUS_ROWS))])
def test_corpus_sentence(row: dict[str, Any]) -> None:
    result = redact(row["text"])
    assert kinds(result) == row["expected"]
    for kind_value, count in row["expected"].items():
        assert result.text.count(IdentifierKind(kind_value).placeholder) == count
    for identifier in row.get("identifiers", []):
        assert identifier not in result.text
    if not row["expected"]:
        assert result.text == row["text"]
