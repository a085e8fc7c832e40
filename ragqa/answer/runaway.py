"""An answer that runs away is cut where it does: any model, not one family's habits.

Small instruct models (SmolLM2-135M on ragqa's own docs/ did both) sometimes go on past their answer:
- they write the prompt's own scaffolding, a new `Question:`, a `<passages>` block, or passages of their own
  labelled as ragqa labels them (a line `[4] Watering` and its text), as if the chat went on;
- they say the same sentence again and again until the answer's token limit.
`RunawayCut` is fed the answer's pieces as they stream and passes on only the text before either; the
loop then stops reading the model (closing the stream stops the server generating). Text is held back only
while it could still turn out to be a stop string or a repeat (a sentence so far word for word like an
earlier one), so an ordinary answer streams as it comes and what streamed is exactly the answer.
"""
from __future__ import annotations

import re

from ragqa.text import sentence_ends

STOP_STRINGS = ("\nQuestion:", "<passages>", "</passages>")  # the prompt's scaffolding (ragqa.answer.prompt)
# a passage's label line as the prompt writes them, "[4] Garden > Watering": a number, words, no sentence's end
_LABEL_LINE = re.compile(r"\n\[\d+\][^\n.!?\[\]]*\n")
_LABEL_SO_FAR = re.compile(r"\n\[\d*\]?[^\n.!?\[\]]*$")
MIN_REPEAT_WORDS = 3  # a repeated sentence this long ends the answer ("Yes. Yes." is left alone)
_CITATIONS = re.compile(r"\[[\d,;\s]+\]")


def _words(sentence: str) -> list[str]:
    return re.findall(r"\w+", _CITATIONS.sub(" ", sentence).lower())


class RunawayCut:
    """`feed(piece)` returns the text that may be shown now; `stopped` once the answer ran away; `text` is the
    answer up to there.

    >>> cut = RunawayCut()
    >>> [cut.feed(p) for p in ["It is red [1]. It", " is red [1]. It is red", " [1]. More"]], cut.stopped, cut.text
    (['It is red [1].', '', ''], True, 'It is red [1].')
    >>> cut = RunawayCut(); cut.feed("Twice a week [2].\\nQues"), cut.feed("tion: why?"), cut.text
    ('Twice a week [2].', '', 'Twice a week [2].')
    >>> cut = RunawayCut(); cut.feed("It needs sun.\\n\\n[4] Wat"), cut.feed("ering\\nWater it."), cut.text
    ('It needs sun.\\n', '', 'It needs sun.')
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled  # False: everything passes (llm.stop_runaway: false)
        self._all = ""  # everything the model wrote so far
        self._shown = 0  # how much of it was passed on
        self._end: int | None = None  # where it ran away
        self.reason: str | None = None  # "scaffolding" or "repeat"

    @property
    def stopped(self) -> bool:
        return self._end is not None

    @property
    def text(self) -> str:
        return self._all[:self._end].rstrip() if self.stopped else self._all

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self._all += piece
        if not self.enabled:
            return self._pass_on(len(self._all))
        end = self._runaway_at()
        if end is not None:
            self._end = end
            return self._pass_on(len(self._all[:end].rstrip()))
        return self._pass_on(self._safe_length())

    def finish(self) -> str:
        """The text still held back when the model ended on its own."""
        return "" if self.stopped else self._pass_on(len(self._all))

    def _pass_on(self, upto: int) -> str:
        out = self._all[self._shown:upto] if upto > self._shown else ""
        self._shown = max(self._shown, upto)
        return out

    def _sentences(self) -> tuple[list[tuple[int, str]], int]:
        """(start, text) of each finished sentence, and where the unfinished one starts."""
        done, start = [], 0
        for end in sentence_ends(self._all):  # the sentences every step splits by (ragqa.text)
            done.append((start, self._all[start:end]))
            start = end
        return done, start

    def _runaway_at(self) -> int | None:
        found = [(i, "scaffolding") for i in (self._all.find(s) for s in STOP_STRINGS) if i >= 0]
        label = _LABEL_LINE.search(self._all)
        if label:
            found.append((label.start(), "scaffolding"))
        seen: set[tuple[str, ...]] = set()
        for start, sentence in self._sentences()[0]:
            words = tuple(_words(sentence))
            if len(words) >= MIN_REPEAT_WORDS and words in seen:
                found.append((start, "repeat"))
                break
            seen.add(words)
        if not found:
            return None
        at, self.reason = min(found)
        return at

    def _safe_length(self) -> int:
        """How much can be passed on: not a tail that may be the start of a stop string, nor an unfinished
        sentence that is so far word for word an earlier one."""
        safe = len(self._all)
        for stop in STOP_STRINGS:
            for size in range(min(len(stop) - 1, len(self._all)), 0, -1):
                if self._all.endswith(stop[:size]):
                    safe = min(safe, len(self._all) - size)
                    break
        label = _LABEL_SO_FAR.search(self._all)
        if label:  # a line that may yet turn out to be a passage's label
            safe = min(safe, label.start())
        done, start = self._sentences()
        so_far = _words(self._all[start:])
        if so_far and any(_echoes(so_far, _words(s)) for _, s in done):
            safe = min(safe, start)
        return safe


def _echoes(so_far: list[str], earlier: list[str]) -> bool:
    """Is the unfinished sentence so far the start of an earlier one (its last word perhaps half written)?

    >>> _echoes(["it", "is", "r"], ["it", "is", "red"]), _echoes(["it", "was"], ["it", "is", "red"])
    (True, False)
    """
    if len(so_far) > len(earlier) or len(earlier) < MIN_REPEAT_WORDS:
        return False
    return so_far[:-1] == earlier[:len(so_far) - 1] and earlier[len(so_far) - 1].startswith(so_far[-1])
