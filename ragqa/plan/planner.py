"""The question planner: what kind of question this is, and which notes it is about. Rules, no model.

    plan_question("How many notes do I have tagged #computing/parsing?", vocabulary, today)
        -> Plan(kind="count", tags=("computing/parsing",))

Kinds: "links" (what links to a note, or what a note links to), "count" (how many notes), "list" (which notes;
what did I write in March), "summary" (summarize what I wrote about X), else "lookup". Filters: tags (written
`#tag`, "tagged X", or a tag of the vault named in a list or count question: "my physics notes"), folders ("in
my recipes folder"), file types ("in my PDFs"), created or modified dates (ragqa.plan.dates).

A question that is not plainly about the notes themselves stays an ordinary lookup, unchanged: "How many
people live in Paris?" is about what the notes say, not about the notes, so its plan is `Plan()`.
"""
from __future__ import annotations

import datetime as dt
import re

from ragqa.index.catalog import Vocabulary
from ragqa.index.note_rows import fold
from ragqa.plan.dates import find_dates
from ragqa.plan.question_plan import Plan
from ragqa.plan.tag_joins import every_tag_asked
from ragqa.plan.vocabulary import match_note, match_tags, named_note, tag_named

# The notes as things a question is about: a plural ("notes", "files"), or one after a word that makes it a noun
# ("my note", "which file"), so that "What did Shrewsbury note?" is not about notes.
NOUN = (r"(?:(?:notes|files|documents|docs|pages|entries|pdfs|writings|articles|memos|journals|cards|backlinks)|"
        r"(?:(?<=my )|(?<=a )|(?<=the )|(?<=which )|(?<=what )|(?<=any )|(?<=each )|(?<=every )|(?<=one )|(?<=no ))"
        r"(?:note|file|document|page|entry|pdf|journal))")
_NOUN = re.compile(rf"\b{NOUN}\b", re.I)
_COUNT = re.compile(rf"\bhow\s+many\s+(?:\S+\s+){{0,3}}?{NOUN}\b|\b(?:the\s+)?(?:number|count|total|tally)\s+of\s+"
                    rf"(?:\S+\s+){{0,3}}?{NOUN}\b|^\s*count\s+(?:\S+\s+){{0,3}}?{NOUN}\b|\bhow\s+many\b(?=.*#)", re.I)
_SUMMARY = re.compile(r"\b(?:summari[sz]e|summary|sum\s+up|recap|overview|digest|synthesi[sz]e)\b", re.I)
_LIST = re.compile(rf"\b(?:which|what|list|show|give|find|display|enumerate|name|get|pull\s+up|any)\b(?:\W+\w+){{0,5}}?"
                   rf"\W+{NOUN}\b|^\s*(?:all\s+)?(?:my\s+)?{NOUN}\b|\b(?:list|show|enumerate)\b", re.I)
_WROTE = re.compile(r"\bwhat\s+(?:(?:did|have|had|do)\s+)?i(?:'ve|\s+have)?\s+(?:\w+\s+){0,2}?"
                    r"(?:write|written|wrote|writing|create|created|"
                    r"creating|start|started|add|added|note|noted|jot|jotted|make|made|publish|published|save|saved|"
                    r"edit|edited|modify|modified|update|updated|change|changed|touch|touched|capture|captured|"
                    r"record|recorded|work\s+on|worked\s+on|put\s+down)\b", re.I)
_PASSIVE = re.compile(r"\b(?:what|which\s+\w+)\s+(?:was|were|got|has\s+been|have\s+been)\s+(?:written|created|added|"
                      r"noted|started|made|jotted(?:\s+down)?|saved|edited|modified|updated|changed)\b", re.I)
_NEWEST = re.compile(r"\b(?:most\s+recent|recent|latest|newest|last\s+(?:\d+|few|several)\s+notes)\b", re.I)
_MODIFIED = re.compile(r"\b(?:modif\w*|updat\w*|edit\w*|chang\w*|touch\w*|revis\w*|last\s+saved)\b", re.I)
_SAYS = re.compile(rf"\b{NOUN}\s+(?:\w+\s+)?(?:say|says|said|tell|tells|describe|describes|explain|explains|suggest|"
                   r"suggests|recommend|recommends|think|claim|claims)\b", re.I)
_BACKLINKS = re.compile(
    r"\b(?:link(?:s|ed|ing)?\s+(?:back\s+)?(?:to|into|at)|back-?\s?links?|point(?:s|ed|ing)?\s+(?:to|at)|"
    r"refer(?:s|red|ring)?\s+to|reference[sd]?|referencing|mention(?:s|ed|ing)?|cit(?:e|es|ed|ing)|"
    r"connect(?:s|ed)?\s+to|(?:incoming|inbound)\s+links?|linked\s+(?:from|to|in)|links?\s+(?:in)?to|links?\s+here)\b",
    re.I)
_FORWARD = re.compile(r"\b(?:does|do)\s+(?P<a>.+?)\s+link\s+to\b|\b(?:outgoing|forward)\s+links?\s+"
                      r"(?:of|in|from|for)\s+(?P<b>.+)$|\blinks?\s+(?:in|inside|from)\s+(?P<c>.+)$", re.I)
_EXPLICIT_NOTE = re.compile(r"\[\[([^\[\]|#]+)(?:[#|][^\[\]]*)?\]\]|\bnote\s+(?:called\s+|named\s+|titled\s+)?"
                            r"(?:\"([^\"]+)\"|“([^”]+)”|'([^']{2,})')", re.I)
_NOTE_AFTER = re.compile(r"(?:to|of|for|at|on|mention|mentions|reference|references|cite|cites)\s+(?:the\s+|my\s+)?"
                         r"(?:note\s+(?:called\s+|named\s+|titled\s+)?)?(?P<name>.+?)\s*[?.!]*\s*$", re.I)
_MORE_TAGS = re.compile(r"\s*(?:,|\bor\b|\band\b|/)\s*#?(?P<tag>[\w\-/]+)", re.I)
_TAG = re.compile(r"(?<![\w&/#])#([\w\-/]*[^\W\d][\w\-/]*)")
_TAGGED = re.compile(r"(?:\btag(?:s|ged)?\b(?:\s+(?:with|as|of|is|:))?(?:\s+the)?(?:\s+tag)?|"
                     r"\b(?:filed\s+)?under(?:\s+the)?(?=\s+[\"'“]?#?[\w\-]+/[\w\-/]+|\s+[\"'“]?#?[\w\-]+\s+tag\b))"
                     r"\s+[\"'“]?#?(?P<tag>[\w\-/]+)", re.I)
_FOLDER = re.compile(r"\b(?:in|under|inside|within|from)\s+(?:my\s+|the\s+)?(?P<a>[\w\-/ ]{1,60}?)\s+"
                     r"(?:folder|directory|dir)\b|\b(?:folder|directory)\s+[\"'“]?(?P<b>[\w\-/ ]{1,60}?)[\"'”]?"
                     r"(?=\s*(?:[?.!,]|$|\s+(?:in|from|"
                     r"during|created|written|that|which|with)\b))|\b(?:in|under)\s+(?P<c>[\w\-]+(?:/[\w\-]+)*)/(?!\w)",
                     re.I)
_IN_FOLDER = re.compile(r"\b(?:in|under|inside|within)\s+(?:my\s+|the\s+)?(?P<name>[\w\-]+(?:/[\w\-]+)*)", re.I)
TYPE_WORDS = {"pdf": "pdf", "pdfs": "pdf", "word documents": "docx", "word files": "docx", "docx": "docx",
              "spreadsheets": "xlsx", "excel files": "xlsx", "presentations": "pptx", "slides": "pptx",
              "slide decks": "pptx", "emails": "email", "mails": "email", "images": "image", "photos": "image",
              "screenshots": "image", "pictures": "image", "scans": "image", "web pages": "html", "epubs": "epub",
              "ebooks": "epub", "e-books": "epub", "text files": "text", "markdown notes": "markdown",
              "markdown files": "markdown"}
_TYPE = re.compile(r"\b(?:my|the|which|many|all|in|of|from)\s+(?P<t>" + "|".join(
    re.escape(w) for w in sorted(TYPE_WORDS, key=len, reverse=True)) + r")(?:\s+files)?\b", re.I)
_FILLER = set("""a an the of about on in at to for from during between and or with by as is are was were be been
    what which who whom whose when where why how did do does have has had i me my mine we our you your it its this that
    these those there here any all every each some many much few much number count total list show give find display
    enumerate name get tell please can could would will shall should may might must notes note files file documents
    document docs pages entries entry writings writing articles memos journals journal cards wrote write written
    writes create created start started starting begin began add added noted jot jotted make made publish published
    save saved edit edited modify modified update updated change changed touched touch capture captured record
    recorded work worked put down up just only ever so far yet still tagged tag tags tagging folder directory
    mention mentions mentioning mentioned regarding concerning covering discussing related relating dealing topic
    topics subject thing things stuff everything anything something what's whats say says said kept keep
    summarize summarise summary sum recap overview digest synthesize synthesise carry carries carrying filed
    labeled labelled marked new recent latest older have having got contain contains containing include includes
    belong belonging bear bearing called named titled category categorised categorized under want wanted see
    view look looking need like would let i'd i'm browse most newest oldest first
    since before after until till through last past this year month
    week day days weeks months years ago today yesterday recently lately vault library collection
    """.split())


def plan_question(question: str, vocabulary: Vocabulary, today: dt.date) -> Plan:
    """What the question asks of the notes; `Plan()` when it is an ordinary question about their content."""
    text = " ".join(question.split())
    links = _links_plan(text, vocabulary)
    if links is not None:
        return links
    kind = _kind(text)
    used: list[str] = []  # the words the filters took, left out of the topic
    tags = _explicit_tags(text, vocabulary, used)
    about_notes = kind != "lookup" or bool(_NOUN.search(text) or _LIST.search(text) or _TAGGED.search(text))
    folders = _folders(text, vocabulary, used, loose=kind != "lookup")
    if about_notes and not tags:  # "my physics notes": a tag of the vault, named in a question about notes
        tags = match_tags(_without(text, used), vocabulary, used, skip=_FILLER)
    every_tag = every_tag_asked(text, tags, used)
    types = _types(text, used) if kind != "lookup" or re.search(r"\bin\s+my\b", text, re.I) else []
    dates = find_dates(text, today) if _dates_apply(text, kind) else None
    created = modified = None
    if dates:
        used.append(dates.words)
        if _MODIFIED.search(text):
            modified = dates.range
        else:
            created = dates.range
    topic = _topic(text, used)
    filtered = bool(tags or folders or types or dates)
    if kind == "lookup" and filtered and about_notes and not _leftover(text, used) and not _SAYS.search(text):
        kind = "list"  # "computing/cpp notes from 2023?", "list everything under #math": nothing else is asked
    if kind == "lookup":  # a tag found only by its name stays out of an ordinary question's search
        explicit = tags if _TAG.search(text) or _TAGGED.search(text) else []
        return Plan(tags=tuple(explicit), folders=tuple(folders), types=tuple(types), created=created,
                    modified=modified, date_words=dates.words if dates else "")
    if not filtered and not topic and _leftover(text, used) and kind != "summary":
        return Plan()  # "Which files does ragqa skip?" asks what the notes say, not which notes there are
    if kind == "summary" and not (filtered or topic):
        return Plan()
    return Plan(kind, tags=tuple(tags), every_tag=every_tag, folders=tuple(folders), types=tuple(types),
                created=created, modified=modified, topic=topic, date_words=dates.words if dates else "",
                newest_first=bool(_NEWEST.search(text)))


def _kind(text: str) -> str:
    if _SUMMARY.search(text) and (_NOUN.search(text) or _WROTE.search(text) or "#" in text):
        return "summary"
    if _COUNT.search(text):
        return "count"
    if _SAYS.search(text):
        return "lookup"  # "What do my notes say about X?" asks what they say
    if _WROTE.search(text) or _PASSIVE.search(text) or (_LIST.search(text) and (
            _NOUN.search(text) or _TAGGED.search(text) or _TAG.search(text))):
        return "list"
    return "lookup"


def _links_plan(text: str, vocabulary: Vocabulary) -> Plan | None:
    """A links question when it names a note of the index ("What links to [[habit cue]]?"); None otherwise."""
    forward = _FORWARD.search(text)
    backward = _BACKLINKS.search(text)
    if not (forward or backward):
        return None
    explicit = _EXPLICIT_NOTE.search(text)
    if explicit:
        words = next(g for g in explicit.groups() if g)
    elif forward:
        words = next(g for g in forward.groups() if g)
    else:
        assert backward is not None  # noqa: S101 - typing: one of the two matched
        after = _NOTE_AFTER.search(text, backward.start())
        words = after.group("name") if after else ""
    words = re.sub(r"^(?:the\s+|my\s+)?(?:note\s+(?:called\s+|named\s+|titled\s+)?)?", "", words.strip(" ?.!\"'"),
                   flags=re.I)
    match = match_note(words, vocabulary, exact_only=not explicit and not forward
                       and not re.search(r"\blink|\bbacklink|\bpoint", text, re.I))
    if match is None and not explicit:  # "What backlinks does unitary matrix have?": the longest name it holds
        words = named_note(text, vocabulary, skip=_FILLER) or words
        match = match_note(words, vocabulary, exact_only=True)
    if match is None:
        if explicit:
            return Plan("links", note_words=words)  # a note the index does not have: said so, not searched
        return None
    if forward and not backward:
        return Plan("links", links_from=match, note_words=words)
    if forward and backward and forward.start() < backward.start() and "does" in forward.group(0).lower():
        return Plan("links", links_from=match, note_words=words)
    return Plan("links", links_to=match, note_words=words)


def _explicit_tags(text: str, vocabulary: Vocabulary, used: list[str]) -> list[str]:
    """Tags written `#tag`, or after "tagged"/"tag"/"under" (and any more after "or", "and", ","): the vault's tag
    the words from there name ("tagged mental health" is `mental_health`), else the one word as written."""
    found = []
    for match in _TAG.finditer(text):
        found.append(match.group(1).rstrip("/"))
        used.append(match.group(0))
    for match in _TAGGED.finditer(text):
        tag = match.group("tag").rstrip("/")
        if tag.lower() in _FILLER or tag in found:
            continue
        tag, end = _tag_at(text, match.start("tag"), vocabulary) or (tag, match.end())
        found += [tag] if tag not in found else []
        used.append(text[match.start():end])
        while more := _MORE_TAGS.match(text, end):  # "tagged cuda or vulkan", "tagged a, b and c"
            named = _tag_at(text, more.start("tag"), vocabulary)
            if named is None:
                break
            found += [named[0]] if named[0] not in found else []
            used.append(text[more.start():named[1]])
            end = named[1]
    return found


def _tag_at(text: str, start: int, vocabulary: Vocabulary) -> tuple[str, int] | None:
    """(the vault's tag named by the longest run of up to 4 words from `start`, where that run ends), or None."""
    words = list(re.finditer(r"#?[\w\-/]+", text[start:]))[:4]
    for n in range(len(words), 0, -1):
        phrase = text[start:start + words[n - 1].end()].lstrip("#")
        named = [phrase] if fold(phrase) in vocabulary.tags else tag_named(phrase, vocabulary)
        if named:
            return named[0], start + words[n - 1].end()
    return None


def _folders(text: str, vocabulary: Vocabulary, used: list[str], loose: bool = False) -> list[str]:
    """Folders named as such ("in my recipes folder", "under Writings/"), or, in a question about notes
    (`loose`), a folder of the vault named after "in" ("How many notes are in Fleeting?")."""
    found = []
    matches = [(m.group(0), m.group("a") or m.group("b") or m.group("c") or "") for m in _FOLDER.finditer(text)]
    if loose:
        matches += [(m.group(0), m.group("name")) for m in _IN_FOLDER.finditer(text)]
    for words, name in matches:
        name = re.sub(r"^(?:my|the)\s+", "", name.strip().lower())
        folder = vocabulary.folders.get(name) or vocabulary.folders.get(name.replace(" ", "-")) or next(
            (w for f, w in vocabulary.folders.items() if f.rsplit("/", 1)[-1] == name), None)
        if folder and folder not in found:
            found.append(folder)
            used.append(words)
    return found


def _types(text: str, used: list[str]) -> list[str]:
    found = []
    for match in _TYPE.finditer(text):
        kind = TYPE_WORDS[match.group("t").lower()]
        if kind not in found:
            found.append(kind)
            used.append(match.group(0))
    return found


def _dates_apply(text: str, kind: str) -> bool:
    """Dates name when notes were written in a question about the notes, or in one that says "I wrote" or "my
    notes from"; in any other question a date is part of what is asked ("What happened in 1969?")."""
    return kind != "lookup" or bool(_WROTE.search(text) or _PASSIVE.search(text) or re.search(
        rf"\b(?:i|I)\s+(?:wrote|noted|jotted|created|added|saved|edited|updated|modified|changed)\b|\b{NOUN}\s+(?:from|of|"
        r"written|created|modified|updated|edited|made|added|since|before|after|between|during)\b", text, re.I))


def _without(text: str, used: list[str]) -> str:
    for words in used:
        text = re.sub(re.escape(words), " ", text, flags=re.I)
    return text


def _leftover(text: str, used: list[str]) -> list[str]:
    """The question's words that are neither a filter's nor its frame's ("ragqa", "skip")."""
    words = re.findall(r"[\w][\w'+.\-]*", _without(text, used))
    return [w for w in words if w.lower().strip(".") not in _FILLER and not w.isdigit()]


_TOPIC = re.compile(r"\b(?:about|on|regarding|concerning|mentioning|mention|mentions|covering|discussing|"
                    r"related\s+to|relating\s+to|dealing\s+with|involving|talk(?:s|ing)?\s+about|with\s+the\s+words?)"
                    r"\s+(?P<words>.+?)(?=\s+(?:did|do|have|had|that|which|from|in|during|since|before|after|between|"
                    r"created|written|modified|edited|updated|last|this|over|are|were|is)\b|[?.!,;]|$)"
                    rf"|\bmy\s+(?P<adjective>[\w\-]+(?:\s+[\w\-]+)?)\s+{NOUN}\b", re.I)


def _topic(text: str, used: list[str]) -> str:
    """What the notes are to be about: the words after "about", "on", "mentioning"… or before "notes" ("my
    sleep notes"), less the filters' words and the question's frame; "" when the question names no topic.
    Words elsewhere ("Which notes carry the tag X?") are the question's frame, never a topic.

    >>> _topic("Which notes about sleep did I write in 2024?", ["2024"]), _topic("Which notes carry #x?", ["#x"])
    ('sleep', '')
    """
    spans = [m.group("words") or m.group("adjective") for m in _TOPIC.finditer(_without(text, used))]
    words = re.findall(r"[\w][\w'+.\-]*", " ".join(spans))
    kept = [w.strip(".") for w in words if w.lower().strip(".") not in _FILLER and not w.isdigit()]
    return " ".join(w for w in kept if w)
