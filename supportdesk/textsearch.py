"""Fuzzy text search (as you type, on every keystroke) and suggestions (which documents fit a
message), over a fixed set of short documents held in memory: templates, backlog items.

Everything is built once in `TextIndex.__init__`; a query then costs little:

- Text is normalised (NFKC, casefold, ё -> е), split into words, stop words (English and
  Russian) dropped and the rest stemmed (`stem`: the Snowball English and Russian algorithms,
  from `snowballstemmer`), so "пароль/пароля/паролем" and "passwords/password" meet.
- search(): each query word is matched against the vocabulary of the documents' words: the
  same stem (best), a word it begins (as you type: "pass" -> "password"), or a word one typo
  away ("pasword", "refnd", "паролл"), found through a trigram index and checked with a
  linear-time edit test. Matches count by field: name >> tags > description > body, and rare
  words weigh a little more than common ones.
- suggest(): TF-IDF cosine between a message and each suggested document (name and tags
  weigh more than the body), plus a bounded boost for documents the agent used for similar
  messages (`Use`: keywords of the message answered then).

Documents sharing a name are variants of one (by language); one hit per name is returned.
Pure Python (the standard library and `snowballstemmer`), no database: the caller builds
documents (`TextDoc`, or any object with the attributes of `Doc`) from whatever it stores.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Generic, Protocol, TypeVar

import snowballstemmer

__all__ = [
    "Doc",
    "Hit",
    "TextDoc",
    "TextIndex",
    "Use",
    "keywords",
    "normalize",
    "stem",
]


class Doc(Protocol):
    """What the index reads of a document."""

    @property
    def key(self) -> int:
        """The caller's id for it."""

    @property
    def name(self) -> str:
        """Searched first; documents of one name are variants of one (one hit per name)."""

    @property
    def language(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...

    @property
    def description(self) -> str: ...

    @property
    def text(self) -> str:
        """The body as indexed."""

    @property
    def rank(self) -> int:
        """Of several variants of one name in one language, the lowest rank is used."""

    @property
    def preferred(self) -> bool:
        """Searched a little higher (PREFERRED_FACTOR) and listed first for a blank query."""

    @property
    def suggested(self) -> bool:
        """Whether suggest() offers it."""


@dataclass(frozen=True, slots=True)
class TextDoc:
    """A plain document."""

    key: int
    name: str
    language: str = "en"
    tags: tuple[str, ...] = ()
    description: str = ""
    body: str = ""
    rank: int = 0
    preferred: bool = False
    suggested: bool = True

    @property
    def text(self) -> str:
        return self.body


D = TypeVar("D", bound=Doc)


@dataclass(frozen=True, slots=True)
class Hit(Generic[D]):
    doc: D
    score: float
    matched: tuple[str, ...] = ()
    """suggest(): the message's words (as written) that this document matched, best first."""


@dataclass(frozen=True, slots=True)
class Use:
    """One past use of a document (by its name) by this agent."""

    name: str
    keywords: tuple[str, ...]
    """`keywords(latest customer message)` at the time of the use."""


# --- limits: hostile input costs no more than this ------------------------------------------

MAX_QUERY_CHARS = 1_000
MAX_QUERY_WORDS = 20
MAX_WORD = 40
"""Longer "words" (base64, hashes, aaaa...) are cut to this for indexing and matching."""
MAX_TEXT_CHARS = 100_000
"""keywords() and suggest() read at most this much of a message."""
MAX_HISTORY = 5_000
"""suggest() looks at the most recent uses only."""

# --- weights ----------------------------------------------------------------------------------

SEARCH_FIELD_WEIGHT = {"name": 10.0, "tags": 6.0, "description": 3.0, "body": 1.0}
SEARCH_BODY_REPEATED = 1.5
"""Body weight of a word that occurs three times or more."""
EXACT, FUZZY, FUZZY_FAR, FUZZY_PREFIX = 1.0, 0.75, 0.6, 0.55
FUZZY_WHEN_EXACT = 0.4
"""Typo alternatives of a word that is itself in the vocabulary count this much less."""
NAME_PREFIX_BONUS, NAME_EXACT_BONUS = 4.0, 8.0
PREFERRED_FACTOR = 1.05
PREFIX_CAP = 60
"""Body words completing a prefix, at most (the commonest); name and tag words: all."""
FUZZY_CAP = 40

SUGGEST_FIELD_WEIGHT = {"name": 3.0, "tags": 2.5, "description": 1.5, "body": 0.7}
"""BM25F: how much one occurrence of a word in each field counts."""
BM25_K1, BM25_B = 1.2, 0.5
SUGGEST_TERMS = 40
SUGGEST_WINDOW = 16
"""suggest() computes the fit of this many best-scored names (plus 4 per hit asked for)."""
"""The message's most significant stems (weight * idf) that suggest() matches."""
PART_WEIGHT = {"latest": 1.0, "subject": 0.6, "earlier": 0.3}
"""How much a word counts by where the customer wrote it."""
NEGATED_PENALTY = 1.5
"""A negated word ("not my login email") subtracts this times what it would have added ..."""
NEGATED_HEAD_FACTOR = 0.3
"""... and a document naming it (name or tags) keeps only this much of its score."""
CONFIDENCE_SCALE = 6.0
"""Fit = 1 - exp(-BM25 score / this): a couple of rare, specific words fit well ..."""
DISTINCT_WEIGHT = 0.5
"""... times 1 - this * (1 - how far a document is ahead of the next: 0 for all but the
first). A template that barely beats another is not a confident pick."""
OTHER_LANGUAGE_FACTOR = 0.85
"""suggest(): a document without a variant in the request's language scores this much less."""
HISTORY_CAP = 0.6
"""Learning from use adds at most this to a fit: it lifts a template, it does not drown text."""
HISTORY_SCALE = 1.0
HISTORY_MIN_SIMILARITY = 0.12
"""A use counts when its keywords are this similar (idf-weighted cosine) to the message's;
the boost is HISTORY_CAP * (1 - exp(-sum of similarities / HISTORY_SCALE))."""

# --- text -------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_REPLY_TAIL = re.compile(
    r"^[ \t]*(?:--[ \t]*|_{5,}[ \t]*|-{5,}.*|On .{0,200}wrote:[ \t]*"
    r"|.{0,200}(?:пишет|написал|написала):[ \t]*"
    r"|Sent from my .*|Отправлено с .*|From: .*|От: .*)$",
    re.MULTILINE | re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:(?:best|kind|warm|many)?[ \t]*regards|thanks(?: a lot| again| in advance)?"
    r"|thank you|"
    r"cheers|best|br|sincerely|yours(?: truly)?|с уважением|спасибо(?: заранее)?|заранее спасибо|"
    r"всего доброго|благодарю)[ \t]*[,.!]*[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[.,;:!?()\n]")
_NOT_EN = frozenset({"not", "isn't", "wasn't", "aren't", "isn’t", "wasn’t", "aren’t"})
_AUXILIARY = frozenset(
    [
        "do",
        "does",
        "did",
        "can",
        "could",
        "is",
        "are",
        "was",
        "were",
        "will",
        "would",
        "should",
        "has",
        "have",
        "had",
        "may",
        "might",
        "must",
        "am",
        "be",
        "been",
        "it's",
        "that's",
        "i'm",
    ]
)
_NEGATION_LEAD = frozenset(
    [
        "about",
        "regarding",
        "re",
        "my",
        "the",
        "a",
        "an",
        "our",
        "your",
        "his",
        "her",
        "their",
        "this",
        "that",
        "related",
        "to",
        "with",
        "про",
        "о",
        "об",
        "по",
        "насчет",
        "касательно",
        "мой",
        "моя",
        "мое",
        "мои",
        "мою",
        "моего",
        "моей",
        "этот",
        "эта",
        "это",
        "тот",
        "та",
        "с",
    ]
)
_BREAK = frozenset(".,;:!?()\n") | frozenset(
    ["but", "and", "or", "i", "we", "it", "it's", "а", "но", "и", "или", "я", "мы"]
)
_VERB_RU = (
    "ть",
    "ться",
    "ет",
    "ит",
    "ут",
    "ют",
    "ат",
    "ят",
    "ешь",
    "ишь",
    "ем",
    "ете",
    "ите",
    "ла",
    "ло",
    "ли",
    "л",
    "ся",
    "сь",
    "ю",
)
_VERB_RU_WORDS = frozenset(["могу", "смогу", "можем", "хочу", "вижу", "найду", "получу"])


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_EN = _wordlist(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each few for from further had hadn has hasn have haven having he her here hers
    herself him himself his how i if in into is isn it its itself just let me more most mustn
    my myself no nor not now of off on once only or other ought our ours ourselves out over own
    same shan she should shouldn so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was wasn we were weren what
    when where which while who whom why will with won would wouldn you your yours yourself
    yourselves ll ve re also get got may might must shall us etc via yet still ok okay
    hello hi hey dear thanks thank regards best please kindly sincerely cheers greetings
    one two three try tried trying right time times every like sure really thing way
    """
)
_STOP_RU = _wordlist(
    """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее
    мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть
    был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть
    надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда
    кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас
    были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот
    через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед
    иногда лучше чуть том нельзя такой им более всегда конечно всю между это эта мое мои моего
    моей мою моим ваш ваша ваше ваши вашего вашей вашу вашим вашем который которая которое
    которые которого которой также очень весь вся свой своего своей свои бы ли либо ещё уже
    здравствуйте привет добрый доброе день дня вечер утро спасибо пожалуйста уважением
    благодарю заранее подскажите скажите хочу хотел хотела хотим нужно нужна нужен могу можете
    """
)
STOP_WORDS = _STOP_EN | _STOP_RU


def normalize(text: str) -> str:
    """NFKC, casefolded, ё -> е: the form every comparison here uses."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def _words(normalized: str) -> list[str]:
    return [w[:MAX_WORD] for w in _WORD.findall(normalized)]


def _content_words(normalized: str) -> list[str]:
    """Words worth matching: no stop words, no single letters, no bare numbers."""
    return [w for w in _words(normalized) if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]


# --- stemming ---------------------------------------------------------------------------------

_STEMS: dict[str, str] = {}
_EN = snowballstemmer.stemmer("english")
_RU = snowballstemmer.stemmer("russian")


def stem(word: str) -> str:
    """The stem of a normalised word: the Snowball algorithm of its language (English or
    Russian, by its first letter; other words as they are)."""
    found = _STEMS.get(word)
    if found is None:
        if not word or len(word) > MAX_WORD:
            return word
        first = word[0]
        if "а" <= first <= "я":
            found = _RU.stemWord(word)
        elif "a" <= first <= "z" and word.isascii() and word.isalpha():
            found = _EN.stemWord(word) if len(word) > 3 else word
        else:
            found = word
        if len(_STEMS) > 200_000:
            _STEMS.clear()
        _STEMS[word] = found
    return found


def _is_address(chunk: str) -> bool:
    return "@" in chunk or chunk.lower().startswith(("http://", "https://", "www.", "<http"))


def _stem_counts(text: str) -> Counter[str]:
    """Stems of a message's content words with their counts, in order of first occurrence.

    Quoted lines ("> ...") are someone else's words, and e-mail addresses and links say
    nothing about the topic: both are skipped."""
    text = _QUOTED.sub(" ", text[:MAX_TEXT_CHARS])
    if "@" in text or "http" in text or "www." in text:
        text = " ".join(w for w in text.split() if not _is_address(w))
    return Counter(stem(w) for w in _content_words(normalize(text)))


def customer_words(text: str) -> str:
    """What the customer wrote in a message: quoted lines ("> ..."), the quoted mail after
    "On ... wrote:", and the signature (after "-- " or a sign-off such as "Thanks," near the
    end) removed."""
    text = text[:MAX_TEXT_CHARS]
    tail = _REPLY_TAIL.search(text)
    if tail is not None and tail.start() > 0:
        text = text[: tail.start()]
    text = _QUOTED.sub(" ", text)
    lines = text.rstrip().split("\n")
    for i in range(len(lines) - 1, max(0, len(lines) - 5), -1):
        if _SIGN_OFF.match(lines[i]):
            lines = lines[:i]
            break
    return "\n".join(lines)


def _negates(words: list[str], i: int) -> int | None:
    """Where the words a negative cue at `i` speaks of begin ("not my login email" -> "login";
    "не про пароль" -> "пароль"), or None when the cue negates a verb ("does not work",
    "не могу войти": the customer's problem, not a topic they rule out)."""
    word = words[i]
    j = i + 1
    while j < len(words) and words[j] in _NEGATION_LEAD:
        j += 1
    if j >= len(words) or words[j] in _BREAK:
        return None
    lead = j > i + 1
    if word == "не":
        if lead:
            return j
        nxt = words[j]
        if nxt in _VERB_RU_WORDS or nxt.endswith(_VERB_RU):
            return None
        return j
    if lead:
        return j
    if word != "not" or (i > 0 and words[i - 1] in _AUXILIARY):
        return None
    return j


def message_terms(
    parts: Iterable[tuple[str, float]],
) -> tuple[dict[str, float], dict[str, str]]:
    """The stems of a request's texts (each with its weight: the latest message weighs most)
    -> (stem: weight, negative for a topic the customer rules out; stem: the word as first
    written). A stem takes the weight of the heaviest text it appears in; a repeated one a
    little more."""
    weights: dict[str, float] = {}
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    for text, weight in parts:
        seen: dict[str, float] = {}
        raw = unicodedata.normalize("NFKC", customer_words(text))
        if "@" in raw or "http" in raw or "www." in raw:
            raw = " ".join(w for w in raw.split(" ") if not _is_address(w))
        tokens = _TOKEN.findall(raw)
        words = [normalize(t) for t in tokens]
        negated_until = -1
        for i, w in enumerate(words):
            if w in _BREAK:
                negated_until = -1
            if w in _NOT_EN or w == "не":
                start = _negates(words, i)
                if start is not None:
                    negated_until, content = start, 0
                    while negated_until < len(words) and words[negated_until] not in _BREAK:
                        if words[negated_until] not in STOP_WORDS:
                            content += 1
                            if content > 3:
                                break
                        negated_until += 1
                continue
            w = w.replace("’", "'").split("'")[0][:MAX_WORD]
            if len(w) < 2 or w in STOP_WORDS or w.isdigit() or w in _BREAK:
                continue
            s = stem(w)
            counts[s] += 1
            sign = -1.0 if i < negated_until else 1.0
            if s not in seen or (seen[s] < 0 < sign):
                seen[s] = sign * weight
            written.setdefault(s, tokens[i])
        for s, v in seen.items():
            current = weights.get(s)
            if current is None or abs(v) > abs(current):
                weights[s] = v
    for s, n in counts.items():
        if n > 1:
            weights[s] *= 1.0 + 0.25 * math.log(n)
    return weights, written


def keywords(text: str, limit: int = 40) -> tuple[str, ...]:
    """Normalised content terms of a text (lowercase, ё->е, stop words dropped for en and ru,
    light stemming so 'пароль/пароля/паролем' and 'passwords/password' meet), most significant
    first (most frequent, then first seen). Stored with each use; used for matching."""
    return _most_frequent(_stem_counts(text), limit)


def _most_frequent(counts: Counter[str], limit: int) -> tuple[str, ...]:
    ordered = sorted(counts, key=lambda s: -counts[s])  # stable: first seen first among equals
    return tuple(ordered[: max(0, limit)])


# --- typo matching ----------------------------------------------------------------------------


def _within1(a: str, b: str) -> bool:
    """Damerau (OSA) distance of a and b is at most 1, in linear time."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    m = min(la, lb)
    while i < m and a[i] == b[i]:
        i += 1
    if i == m:
        return True
    if la == lb:
        return a[i + 1 :] == b[i + 1 :] or (
            i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
        )
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def _within2(a: str, b: str) -> bool:
    """Damerau distance at most 2 (one edit at the first difference, then `_within1`)."""
    if abs(len(a) - len(b)) > 2:
        return False
    i = 0
    m = min(len(a), len(b))
    while i < m and a[i] == b[i]:
        i += 1
    if i == m:
        return True
    a, b = a[i:], b[i:]
    return (
        _within1(a[1:], b[1:])
        or _within1(a[1:], b)
        or _within1(a, b[1:])
        or (len(a) > 1 and len(b) > 1 and a[0] == b[1] and a[1] == b[0] and _within1(a[2:], b[2:]))
    )


def _trigrams(word: str) -> set[str]:
    padded = f"${word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


# --- the index --------------------------------------------------------------------------------


def _variant_rank(doc: Doc) -> tuple[int, int]:
    return (doc.rank, doc.key)


class TextIndex(Generic[D]):
    """Search and suggestion over a fixed set of documents; build a new one when they change."""

    def __init__(self, docs: Iterable[D]) -> None:
        self._docs: tuple[D, ...] = tuple(docs)
        docs_ = self._docs
        self._names: list[str] = sorted({d.name for d in docs_})
        group_of = {name: g for g, name in enumerate(self._names)}
        self._doc_group = [group_of[d.name] for d in docs_]
        self._group_of = group_of
        # language -> doc, per name: all documents (search) and the suggested ones (suggest)
        self._variants: list[dict[str, int]] = [{} for _ in self._names]
        self._own_variants: list[dict[str, int]] = [{} for _ in self._names]
        for i, d in enumerate(docs_):
            tables = [self._variants[self._doc_group[i]]]
            if d.suggested:
                tables.append(self._own_variants[self._doc_group[i]])
            for table in tables:
                current = table.get(d.language)
                if current is None or _variant_rank(d) < _variant_rank(docs_[current]):
                    table[d.language] = i
        self._name_keys = sorted(
            ("-".join(_words(normalize(n))), g) for g, n in enumerate(self._names)
        )

        word_stem: dict[str, str] = {}
        head: set[str] = set()
        search_post: dict[str, dict[int, float]] = {}
        own_vectors: list[tuple[int, dict[str, float]]] = []
        own_df: Counter[str] = Counter()
        heads: dict[int, set[str]] = {}
        lengths: dict[int, int] = {}
        for i, d in enumerate(docs_):
            g = self._doc_group[i]
            name_words = _words(normalize(d.name))
            tag_words = _words(normalize(" ".join(d.tags)))
            desc_words = _content_words(normalize(d.description))
            body_words = _content_words(normalize(d.text))
            head.update(name_words)
            head.update(tag_words)
            search_w: dict[str, float] = {}
            suggest_w: dict[str, float] = {}
            for field, words in (
                ("name", name_words),
                ("tags", tag_words),
                ("description", desc_words),
            ):
                fw = SEARCH_FIELD_WEIGHT[field]
                if field == "name":  # a name that is just this word says it best
                    fw *= 0.85 + 0.15 / max(1, sum(not w.isdigit() for w in words))
                sw = SUGGEST_FIELD_WEIGHT[field]
                for s in {self._stem_of(w, word_stem) for w in words}:
                    if search_w.get(s, 0.0) < fw:
                        search_w[s] = fw
                    suggest_w[s] = suggest_w.get(s, 0.0) + sw
            body_counts = Counter(self._stem_of(w, word_stem) for w in body_words)
            for s, tf in body_counts.items():
                bw = SEARCH_BODY_REPEATED if tf >= 3 else SEARCH_FIELD_WEIGHT["body"]
                if search_w.get(s, 0.0) < bw:
                    search_w[s] = bw
                suggest_w[s] = suggest_w.get(s, 0.0) + tf * SUGGEST_FIELD_WEIGHT["body"]
            for s, w in search_w.items():
                post = search_post.get(s)
                if post is None:
                    search_post[s] = {g: w}
                elif post.get(g, 0.0) < w:
                    post[g] = w
            if d.suggested:
                own_vectors.append((i, suggest_w))
                own_df.update(suggest_w.keys())
                heads[i] = {self._stem_of(w, word_stem) for w in (*name_words, *tag_words)}
                lengths[i] = len(name_words) + len(tag_words) + len(desc_words) + len(body_words)
        self._word_stem = word_stem
        self._search_post = search_post
        groups = max(1, len(self._names))
        self._search_idf = {
            s: (1.0 + math.log(groups / len(post))) / (1.0 + math.log(groups))
            for s, post in search_post.items()
        }
        self._words_sorted = sorted(word_stem)
        self._head_sorted = sorted(w for w in head if w in word_stem)
        self._word_df = {w: len(search_post.get(s, ())) for w, s in word_stem.items()}
        trigram_lists: dict[str, list[int]] = {}
        for wid, word in enumerate(self._words_sorted):
            if len(word) >= 3:
                for gram in _trigrams(word):
                    trigram_lists.setdefault(gram, []).append(wid)
        self._trigrams = trigram_lists

        # suggest(): BM25F over name, tags, description and body; a posting holds idf * tf'
        n_own = max(1, len(own_vectors))
        self._idf = {s: math.log(1.0 + n_own / df) for s, df in own_df.items()}
        self._unknown_idf = math.log(1.0 + n_own)
        bm25_idf = {s: math.log(1.0 + (n_own - df + 0.5) / (df + 0.5)) for s, df in own_df.items()}
        average = sum(lengths.values()) / n_own or 1.0
        suggest_post: dict[str, dict[int, float]] = {}
        for i, vec in own_vectors:
            norm = BM25_K1 * (1.0 - BM25_B + BM25_B * lengths[i] / average)
            for s, weight in vec.items():
                bm25 = bm25_idf[s] * weight * (BM25_K1 + 1) / (weight + norm)
                suggest_post.setdefault(s, {})[i] = bm25
        self._suggest_post = suggest_post
        self._heads = heads
        self._own_group_names = {self._names[self._doc_group[i]] for i, _ in own_vectors}
        self._candidate_cache: dict[tuple[str, bool], dict[str, float]] = {}
        self._everything_cache: dict[str | None, list[Hit[D]]] = {}
        self._use_norms: dict[tuple[str, ...], float] = {}

    @staticmethod
    def _stem_of(word: str, table: dict[str, str]) -> str:
        s = table.get(word)
        if s is None:
            s = table[word] = stem(word)
        return s

    def __len__(self) -> int:
        return len(self._docs)

    # --- search -------------------------------------------------------------------------------

    def search(self, query: str, *, language: str | None = None, limit: int = 20) -> list[Hit[D]]:
        """Fuzzy, typo-tolerant search over name (strongest), tags, description and body.
        One hit per name: of its language variants, the one in `language`, else
        'en', else any. Empty/blank query -> every document (one per name), preferred first,
        then by name (at most `limit`). Prefixes match as you type ('pass' finds
        'password-reset'). A query with no letters or digits at all (only punctuation or
        emoji) finds nothing."""
        if limit <= 0:
            return []
        text = normalize(query[:MAX_QUERY_CHARS])
        if not text.strip():
            return self._everything(language, limit)
        words = list(dict.fromkeys(_words(text)))[:MAX_QUERY_WORDS]
        if not words:
            return []
        terms = [w for w in words[:-1] if w not in STOP_WORDS] + words[-1:]
        if len(terms) == 1 and terms[0] in STOP_WORDS and len(words) > 1:
            terms = words
        totals: dict[int, float] = {}
        for position, word in enumerate(terms):
            candidates = self._candidates(word, last=position == len(terms) - 1)
            if not candidates:
                continue
            best: dict[int, float] = {}
            for s, quality in candidates.items():
                factor = quality * self._search_idf[s]
                for g, w in self._search_post[s].items():
                    v = factor * w
                    if v > best.get(g, 0.0):
                        best[g] = v
            for g, v in best.items():
                totals[g] = totals.get(g, 0.0) + v
        if not totals:
            return []
        key = "-".join(words)
        lo = bisect.bisect_left(self._name_keys, (key,))
        hi = bisect.bisect_left(self._name_keys, (key + "\U0010ffff",))
        for name_key, g in self._name_keys[lo:hi]:
            if g in totals:
                totals[g] += NAME_EXACT_BONUS if name_key == key else NAME_PREFIX_BONUS
        return self._hits(totals, language, limit, factor=self._preferred, high=PREFERRED_FACTOR)

    @staticmethod
    def _preferred(g: int, doc: Doc) -> float:
        return PREFERRED_FACTOR if doc.preferred else 1.0

    def _everything(self, language: str | None, limit: int) -> list[Hit[D]]:
        hits = self._everything_cache.get(language)
        if hits is None:
            chosen = [self._pick(self._variants[g], language) for g in range(len(self._names))]
            docs = [self._docs[i] for i in chosen if i is not None]
            docs.sort(key=lambda d: (not d.preferred, d.name))
            hits = [Hit(d, 0.0) for d in docs]
            if len(self._everything_cache) > 16:
                self._everything_cache.clear()
            self._everything_cache[language] = hits
        return hits[:limit]

    def _candidates(self, word: str, *, last: bool) -> dict[str, float]:
        """Stems this query word may stand for, with how well it matches each (0..1]."""
        cache_key = (word, last)
        cached = self._candidate_cache.get(cache_key)
        if cached is not None:
            return cached
        found: dict[str, float] = {}

        def add(s: str, quality: float) -> None:
            if found.get(s, 0.0) < quality:
                found[s] = quality

        s = stem(word)
        exact = s in self._search_post
        if exact:
            add(s, EXACT)
        known = self._word_stem.get(word)
        if known is not None:
            exact = True
            add(known, EXACT)
        # as you type: words this one begins (name and tag words always; body words from 3 letters)
        if last or len(word) >= 3:
            for pool, cap in ((self._head_sorted, 0), (self._words_sorted, PREFIX_CAP)):
                if pool is self._words_sorted and len(word) < 3:
                    continue
                lo = bisect.bisect_left(pool, word)
                hi = bisect.bisect_left(pool, word + "\U0010ffff")
                span = pool[lo:hi]
                if cap and len(span) > cap:
                    span = heapq.nlargest(cap, span, key=self._word_df.__getitem__)
                for w in span:
                    if w != word:
                        add(self._word_stem[w], 0.5 + 0.4 * len(word) / len(w))
        # typos: words one edit away (two for long words), found through shared trigrams
        if len(word) >= 4 and not word.isdigit():
            damp = FUZZY_WHEN_EXACT if exact else 1.0
            grams = _trigrams(word)
            counts: Counter[int] = Counter()
            for gram in grams:
                ids = self._trigrams.get(gram)
                if ids:
                    counts.update(ids)
            need = max(1, len(grams) - (6 if len(word) >= 8 else 4))
            near = [wid for wid, n in counts.items() if n >= need]
            if len(near) > FUZZY_CAP * 4:
                near = heapq.nlargest(FUZZY_CAP * 4, near, key=counts.__getitem__)
            hits = 0
            n = len(word)
            for wid in near:
                w = self._words_sorted[wid]
                if w == word:
                    continue
                quality = 0.0
                if _within1(word, w):
                    quality = FUZZY
                elif n >= 8 and _within2(word, w):
                    quality = FUZZY_FAR
                elif last and len(w) > n and any(_within1(word, w[:k]) for k in (n - 1, n, n + 1)):
                    quality = FUZZY_PREFIX
                if quality:
                    add(self._word_stem[w], quality * damp)
                    hits += 1
                    if hits >= FUZZY_CAP:
                        break
        if len(self._candidate_cache) > 4096:
            self._candidate_cache.clear()
        self._candidate_cache[cache_key] = found
        return found

    # --- suggestions --------------------------------------------------------------------------

    def suggest(
        self,
        message: str | Sequence[tuple[str, float]],
        *,
        language: str | None,
        history: Sequence[Use] = (),
        limit: int = 5,
    ) -> list[Hit[D]]:
        """Rank the suggested documents for a request: `message` is its latest customer
        message, or its texts each with a weight (PART_WEIGHT: the latest message, the
        subject, earlier messages). BM25F of the message's stems over each document's name,
        tags, description and body (a rare word counts more than a common one); a word the
        customer rules out ("not my login email") counts against a document. The score is a
        fit in 0..1 (1 - exp(-bm25 / CONFIDENCE_SCALE)), plus a boost of at most HISTORY_CAP
        for documents this agent used for similar messages. Documents with a variant in
        `language` are preferred (one hit per name, as in search). Only documents with a
        positive score; at most `limit`; each hit names the words it matched."""
        if limit <= 0 or not self._own_group_names:
            return []
        parts = [(message, 1.0)] if isinstance(message, str) else list(message)
        weights, written = message_terms(parts)
        post = self._suggest_post
        terms = [(s, w) for s, w in weights.items() if s in post]
        if len(terms) > SUGGEST_TERMS:
            top = self._idf
            terms = heapq.nlargest(
                SUGGEST_TERMS, terms, key=lambda t: (abs(t[1]) * top[t[0]], t[0])
            )
        scores: dict[int, float] = {}
        negated: list[str] = []
        for s, w in terms:
            if w < 0:
                negated.append(s)
                w *= NEGATED_PENALTY
            get = scores.get
            for i, dw in post[s].items():
                scores[i] = get(i, 0.0) + w * dw
        if negated:  # the documents naming a negated word (in name or tags) are in its postings
            heads = self._heads
            named = {i for s in negated for i in post[s] if s in heads[i]}
            for i in named:
                if scores.get(i, 0.0) > 0:
                    scores[i] *= NEGATED_HEAD_FACTOR
        text_keys = [s for text, _ in parts for s in _stem_counts(text)]
        boosts = (
            self._history_boost(list(dict.fromkeys(text_keys))[:40], history) if history else {}
        )
        best: dict[int, tuple[float, int]] = {}
        doc_group, docs = self._doc_group, self._docs
        for i, v in scores.items():
            if v <= 0.0:
                continue
            if language and docs[i].language != language:
                v *= OTHER_LANGUAGE_FACTOR
            g = doc_group[i]
            if g not in best or v > best[g][0]:
                best[g] = (v, i)
        for g in boosts:
            if g not in best:
                pick = self._pick(self._own_variants[g], language)
                if pick is not None:
                    best[g] = (0.0, pick)
        ranked: list[tuple[float, int, int, float]] = []
        leaders = heapq.nlargest(2, (v for v, _ in best.values()))
        # Only the leader's fit depends on the runner-up; every other name's fit grows with its
        # score, plus its history boost: the best by score and the boosted ones are all that
        # can rank (10,000 templates: ~5,000 names with a score, a few dozen looked at).
        window = heapq.nlargest(
            SUGGEST_WINDOW + 4 * limit, best.items(), key=lambda gv: (gv[1][0], -gv[0])
        )
        candidates = dict(window)
        for g in boosts:
            if g in best:
                candidates[g] = best[g]
        for g, (v, i) in candidates.items():
            runner_up = leaders[1] if len(leaders) > 1 and v >= leaders[0] else leaders[0]
            distinct = min(1.0, max(0.0, (v - runner_up) / v)) if v > 0 else 0.0
            fit = (1.0 - math.exp(-v / CONFIDENCE_SCALE)) * (
                1.0 - DISTINCT_WEIGHT * (1.0 - distinct)
            ) + boosts.get(g, 0.0)
            if fit > 0.0:
                ranked.append((-round(fit, 4), g, i, v))
        hits: list[Hit[D]] = []
        for neg, g, i, _v in heapq.nsmallest(limit, ranked):
            shown = self._pick(self._own_variants[g], language)
            j = i if shown is None else shown
            contributions = [
                (w * post[s].get(j, post[s].get(i, 0.0)), s) for s, w in terms if w > 0
            ]
            matched = [written[s] for c, s in sorted(contributions, reverse=True) if c > 0]
            hits.append(Hit(docs[j], -neg, tuple(dict.fromkeys(matched))[:8]))
        return hits

    def _kth_group_score(self, scores: dict[int, float], k: int) -> float | None:
        """The k-th best score of a name (its best variant) in `scores`, if known."""
        seen: set[int] = set()
        for _i, v in heapq.nlargest(3 * k + 8, scores.items(), key=itemgetter(1)):
            seen.add(self._doc_group[_i])
            if len(seen) == k:
                return v
        return None

    def _history_boost(
        self, message_keys: Sequence[str], history: Sequence[Use]
    ) -> dict[int, float]:
        idf, unknown = self._idf, self._unknown_idf
        mine = {k: idf.get(k, unknown) ** 2 for k in message_keys}
        if not mine:
            return {}
        mine_norm = math.sqrt(sum(mine.values()))
        group_of = self._group_of
        sums: dict[int, float] = {}
        for use in history[-MAX_HISTORY:]:
            g = group_of.get(use.name)
            if g is None or not self._own_variants[g]:
                continue
            keys = use.keywords[:64]
            shared = mine.keys() & set(keys)
            if not shared:
                continue
            theirs = self._use_norms.get(keys)
            if theirs is None:
                theirs = math.sqrt(sum(idf.get(k, unknown) ** 2 for k in set(keys)))
                if len(self._use_norms) > 20_000:
                    self._use_norms.clear()
                self._use_norms[keys] = theirs
            similarity = sum(mine[k] for k in shared) / (mine_norm * theirs)
            if similarity >= HISTORY_MIN_SIMILARITY:
                sums[g] = sums.get(g, 0.0) + similarity
        return {g: HISTORY_CAP * (1.0 - math.exp(-s / HISTORY_SCALE)) for g, s in sums.items()}

    # --- shared -------------------------------------------------------------------------------

    @staticmethod
    def _pick(variants: dict[str, int], language: str | None) -> int | None:
        if not variants:
            return None
        if language and language in variants:
            return variants[language]
        if "en" in variants:
            return variants["en"]
        return variants[min(variants)]

    def _hits(
        self,
        totals: dict[int, float],
        language: str | None,
        limit: int,
        *,
        own: bool = False,
        factor: Callable[[int, D], float] | None = None,
        low: float = 1.0,
        high: float = 1.0,
    ) -> list[Hit[D]]:
        """The best `limit` names, each as its preferred variant; `factor` (between `low` and
        `high`) adjusts a name's score once its variant is known; equal scores go by name."""
        variants = self._own_variants if own else self._variants
        items = [(g, v) for g, v in totals.items() if v > 0.0]
        if len(items) > limit:
            kth = heapq.nlargest(limit, (v for _, v in items))[-1]
            cut = kth * low / high - 1e-9
            items = [(g, v) for g, v in items if v >= cut]
        ranked: list[tuple[float, int, int]] = []
        for g, score in items:
            i = self._pick(variants[g], language)
            if i is None:
                continue
            if factor is not None:
                score *= factor(g, self._docs[i])
            ranked.append((-round(score, 4), g, i))  # groups are numbered in name order
        return [Hit(self._docs[i], -neg) for neg, _, i in heapq.nsmallest(limit, ranked)]
