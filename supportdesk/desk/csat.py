"""Satisfaction by reply: the one-line question added to answers, and reading a customer's
reply to it as a rating. Pure functions: no SQL, no mail.

What counts as a rating is the FIRST line of what the customer wrote (quoted text and the
signature removed): a score 1-5 ("5", "5!", "5/5", "4 - thanks, fast", "5 спасибо"), two
scores when asked for them ("5 4", "5/4": politeness, proficiency), or a word ("good",
"bad: took two days", "отлично", "плохо", 👍). A number followed by an ordinary word ("5
users cannot log in", "2 questions: ...") or by digits (a date, a version) is not one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from supportdesk.textsearch import customer_words

QUESTION_TEMPLATE = "csat_question"
GOOD_FROM = 4
"""A score of this or more is a good rating."""
MAX_COMMENT = 2_000
ONLY_MAX_LINES = 3
ONLY_MAX_CHARS = 400

_THANKS = (
    "thanks|thank|thx|ty|great|excellent|perfect|awesome|super|fast|quick|very|all|everything"
    "|good|nice|helpful|amazing|wonderful|fine|really|спасибо|благодарю|спс|отлично|супер"
    "|хорошо|быстро|всё|все|очень|прекрасно|замечательно|класс|помогли|вежливо"
)
_COMMENT_WORD = re.compile(rf"^(?:{_THANKS})\b", re.IGNORECASE)
_SEPARATOR = "-–—:;,!"
_ONE = re.compile(r"^([1-5])(?!\d)(?:\s*(?:/|из|of|out of)\s*5(?!\d))?", re.IGNORECASE)
_TWO = re.compile(r"^([1-5])\s*(?:/|\s|,|;|&|и|and)\s*([1-5])(?![\d.:/%])", re.IGNORECASE)
_GOOD_WORDS = {
    "good": 5,
    "great": 5,
    "excellent": 5,
    "perfect": 5,
    "bad": 1,
    "poor": 1,
    "terrible": 1,
    "awful": 1,
    "хорошо": 5,
    "отлично": 5,
    "прекрасно": 5,
    "замечательно": 5,
    "плохо": 1,
    "ужасно": 1,
    "👍": 5,
    "👎": 1,
}
_AMBIGUOUS = {"хорошо", "good", "great"}
"""Words that also start ordinary sentences ("Хорошо, попробую", "Great, but now ..."):
a rating only alone or followed by thanks."""
_WORD = re.compile(r"^(" + "|".join(map(re.escape, _GOOD_WORDS)) + r")(?!\w)", re.IGNORECASE)
MAX_LINE = 200


@dataclass(frozen=True, slots=True)
class Rating:
    """A customer's rating, as read from their message."""

    score: int
    """1 (bad) to 5 (excellent); the mean of two scores rounded up."""
    good: bool
    comment: str
    only: bool
    """The message is only the rating (and its comment): nothing for an agent to answer."""
    politeness: int | None = None
    proficiency: int | None = None


def read_rating(text: str) -> Rating | None:
    """The rating in a customer's message (its first line), or None when it holds none."""
    body = unicodedata.normalize("NFKC", customer_words(text or "")).strip()
    if not body:
        return None
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", body) if p.strip()]
    first_paragraph = paragraphs[0]
    first, _, rest_of_paragraph = first_paragraph.partition("\n")
    found = _read_line(first.strip())
    if found is None:
        return None
    score, good, politeness, proficiency, tail = found
    lines = [tail, *rest_of_paragraph.split("\n")] if len(paragraphs) == 1 else [tail]
    comment = " ".join(" ".join(line.split()) for line in lines if line.strip())
    comment = comment.lstrip(_SEPARATOR + " .").strip()[:MAX_COMMENT]
    only = (
        len(paragraphs) == 1
        and first_paragraph.count("\n") < ONLY_MAX_LINES
        and len(first_paragraph) <= ONLY_MAX_CHARS
        and "?" not in first_paragraph
    )
    return Rating(score, good, comment, only, politeness, proficiency)


def _read_line(line: str) -> tuple[int, bool, int | None, int | None, str] | None:
    """(score, good, politeness, proficiency, what follows) of a rating line, or None."""
    if len(line) > MAX_LINE:
        return None
    two = _TWO.match(line)
    if two is not None and not (two.group(0).count("/") and two.group(2) == "5"):
        tail = line[two.end() :]
        if not _fits(tail):
            return None
        a, b = int(two.group(1)), int(two.group(2))
        score = (a + b + 1) // 2
        return score, score >= GOOD_FROM, a, b, tail
    one = _ONE.match(line)
    if one is not None:
        tail = line[one.end() :]
        if not _fits(tail):
            return None
        score = int(one.group(1))
        return score, score >= GOOD_FROM, None, None, tail
    word = _WORD.match(line)
    if word is not None:
        tail = line[word.end() :]
        key = word.group(1).lower()
        if key in _AMBIGUOUS and tail.strip(_SEPARATOR + " .!") and not _thanks(tail):
            return None
        if not _fits(tail):
            return None
        score = _GOOD_WORDS[key]
        return score, score >= GOOD_FROM, None, None, tail
    return None


def _fits(tail: str) -> bool:
    """Whether what follows a score leaves it a rating: nothing, punctuation then a comment,
    or words of thanks; not a noun it counts ("5 users"), a list ("1) ...", "5. Open"), a
    share ("5%") or more digits (a date, a version)."""
    rest = tail.strip()
    if not rest.strip("!. "):
        return True  # "5", "5!", "5."
    if tail[0] in "/)%'\"":
        return False
    if tail[0] == ".":
        return _thanks(rest[1:])
    if rest[0] in _SEPARATOR or rest[0] == "(":
        return not rest.lstrip(_SEPARATOR + "( ")[:1].isdigit()
    if rest[0].isalnum():
        return _thanks(rest)
    return True  # an emoji, a smiley


def _thanks(tail: str) -> bool:
    return bool(_COMMENT_WORD.match(tail.lstrip(_SEPARATOR + " .!(")))


# -- asking --------------------------------------------------------------------------------

_DELIMITER = re.compile(r"^-- ?$")
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:(?:best|kind|warm|many)?[ \t]*regards|thanks|thank you|cheers|best|sincerely"
    r"|yours(?: truly)?|с уважением|спасибо|всего доброго|всего хорошего|благодарю)\b.{0,30}$",
    re.IGNORECASE,
)


def with_question(body: str, question: str, signature: str = "") -> str:
    """`body` with the one-line `question` after the answer and before the signature: before
    a "-- " delimiter, else before a last paragraph that signs off ("Best regards,", the
    agent's signature), else at the end. A body that already holds it is left alone."""
    question = " ".join(question.split())
    text = body.rstrip()
    if not question or question in " ".join(text.split()):
        return text + "\n"
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _DELIMITER.match(line) and i > 0:
            return _join(lines[:i], question, lines[i:])
    blank = max((i for i, line in enumerate(lines) if not line.strip()), default=-1)
    if blank > 0:
        last = [line for line in lines[blank + 1 :] if line.strip()]
        sig = signature.strip().split("\n")[0].strip() if signature.strip() else ""
        signs_off = bool(last) and (
            _SIGN_OFF.match(last[0]) is not None or (sig != "" and sig in last[0])
        )
        if signs_off and any(line.strip() for line in lines[:blank]):
            return _join(lines[:blank], question, lines[blank + 1 :])
    return f"{text}\n\n{question}\n"


def _join(before: list[str], question: str, after: list[str]) -> str:
    head = "\n".join(before).rstrip()
    tail = "\n".join(after).strip("\n")
    return f"{head}\n\n{question}\n\n{tail}\n"


def rating_label(score: int, good: bool, comment: str, agent: str | None = None) -> str:
    """One line for a rating on the request: `Rated 5/5 (good) — "thanks, fast"`. Plain text:
    the comment is the customer's."""
    line = f"Rated {score}/5 ({'good' if good else 'bad'})"
    if agent:
        line += f" for {agent}"
    if comment:
        line += f' — "{" ".join(comment.split())}"'
    return line
