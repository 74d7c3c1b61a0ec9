"""The `q` of a case list: case numbers by prefix, descriptions and addresses by substring.

Most Chinese search words are two characters long (垃圾, 井盖) and Chinese has no spaces, so
neither trigram indexes nor word segmentation find them reliably: a segmenter may cut 窨井盖 as
窨井/盖 and miss 井盖. On PostgreSQL a GIN index holds every two-character window (bigram) of
a case's description and address (migration cases/0005, `cityloop_bigrams`); a search for text
of two or more characters asks that index for the rows holding all of its bigrams, then keeps
those that hold the text itself. One character has no bigram: it is a plain substring test,
as on SQLite, where every search is one.

The search text goes into the SQL as a quoted literal, not a parameter: a prepared statement's
generic plan cannot know the text and would stop using the index (seen: 7 s).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from enum import StrEnum

from tortoise.connection import get_connection
from tortoise.expressions import Q, RawSQL
from tortoise.queryset import QuerySet

from cases.models import Case
from core.errors import field_error
from core.privacy import holds_digits

_SPACE = re.compile(r"\s")
_DATES = tuple(dt.date(2026, m, m + 1) for m in range(1, 13))  # every month, every weekday
_BIGRAMS = 'cityloop_bigrams("case"."description" || \' \' || "case"."address")'


def bigrams(text: str) -> list[str]:
    """The two-character windows of text as the index holds them (lower case, no spaces)."""
    flat = _SPACE.sub("", text.lower())
    return list(dict.fromkeys(flat[i : i + 2] for i in range(len(flat) - 1)))


@functools.cache
def number_chars(number_format: str, city: str) -> frozenset[str]:
    """Every character a case number of this format can hold (its literal text, what its
    date fields write, the city code, digits)."""
    written = "".join(number_format.format(date=d, id=0, city=city) for d in _DATES)
    literal = "".join(text for text, _, _, _ in string.Formatter().parse(number_format))
    return frozenset(written + literal + city + string.digits)


def _literal(text: str) -> str:
    """An SQL string literal, escaped the same whatever standard_conforming_strings says."""
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _like(text: str, *, prefix: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _literal(escaped + "%" if prefix else "%" + escaped + "%")


def _tsquery(grams: list[str]) -> str:
    # Each bigram as a quoted lexeme of the tsquery syntax, where \ and ' are escaped.
    lexemes = ("'" + g.replace("\\", "\\\\").replace("'", "''") + "'" for g in grams)
    return _literal(" & ".join(lexemes)) + "::tsquery"


class Mode(StrEnum):
    """How a search reads the table on PostgreSQL (SQLite has one way: a substring test)."""

    INDEX = "index"  # the bigram index, then the substring test on what it gives
    SCAN = "scan"  # the substring test alone, along the list's own order
    PROBE = "probe"  # the bigram condition alone: what the planner's estimate is asked of


def condition(text: str, *, words: bool, number: bool, mode: Mode) -> str:
    """The SQL condition of a search on PostgreSQL, over the columns of "case"."""
    # One top-level AND per side: PostgreSQL then checks the cheap ILIKE on each row the
    # bigram index gave, and computes the bigrams of no row (an OR with the number would
    # make it recompute them for every row it counts: 7 µs each).
    conditions = []
    if words:
        like = f'("case"."description" ILIKE {_like(text)} OR "case"."address" ILIKE {_like(text)})'
        grams = bigrams(text)
        if grams and mode == Mode.PROBE:
            conditions.append(f"{_BIGRAMS} @@ {_tsquery(grams)}")
        elif grams and mode == Mode.INDEX:
            conditions.append(f"{_BIGRAMS} @@ {_tsquery(grams)} AND {like}")
        else:
            conditions.append(like)
    if number:
        conditions.append(f'"case"."number" LIKE {_like(text, prefix=True)}')
    return " OR ".join(f"({c})" for c in conditions) if conditions else "false"


def _postgres(
    query: QuerySet[Case], text: str, *, words: bool, number: bool, mode: Mode
) -> QuerySet[Case]:
    found = condition(text, words=words, number=number, mode=mode)
    return query.annotate(text_hit=RawSQL(f"({found})")).filter(text_hit=RawSQL("true"))


def sides(text: str, *, numbers: bool, number_chars: frozenset[str]) -> tuple[bool, bool]:
    """(words, number): whether text is looked for in descriptions and addresses, and in case
    numbers (`matching` says when)."""
    if "\x00" in text:
        raise field_error("q", "NUL in q", "搜索内容含有无效字符")
    return numbers or not holds_digits(text), set(text) <= number_chars


def indexable(text: str) -> bool:
    """Whether a search for text can go through the bigram index (PostgreSQL, 2+ characters)."""
    dialect = get_connection("default").capabilities.dialect
    return dialect == "postgres" and bool(bigrams(text))


def matching(
    query: QuerySet[Case],
    text: str,
    *,
    numbers: bool,
    number_chars: frozenset[str],
    mode: Mode = Mode.INDEX,
) -> QuerySet[Case]:
    """Cases whose number starts with text, or whose description or address holds it.

    `numbers`: whether the reader sees typed-in phone and 身份证 numbers; one who does not
    searches case numbers alone when the text holds digits (they may be a masked middle).
    `number_chars`: what a case number can hold; text with anything else is no number.
    `mode`: for a common word it is faster not to use the index (Mode.SCAN): the newest
    fifty matches are among the newest few hundred cases, while the index gives every
    match, to be fetched and sorted. PostgreSQL cannot tell which case it is in when the
    substring test stands beside the bigrams (it takes the two for independent and guesses a
    handful of rows); asked of the bigrams alone (Mode.PROBE) its estimate is close, and
    lists.listing decides from that.
    """
    words, number = sides(text, numbers=numbers, number_chars=number_chars)
    if get_connection("default").capabilities.dialect == "postgres":
        return _postgres(query, text, words=words, number=number, mode=mode)
    found = [Q(number__startswith=text)] if number else []
    if words:
        found += [Q(description__icontains=text), Q(address__icontains=text)]
    return query.filter(Q(*found, join_type=Q.OR)) if found else query.filter(pk__isnull=True)
