"""The small notes folder the real-LLM tests ask about (test_answers_llm, test_api): SmolLM2's answers over
it are known to cite."""
from __future__ import annotations

from pathlib import Path

# The `llm` section of the tests that start the tiny local model: SmolLM2's answers over these notes cite.
# keep_alive 0: the server stops as soon as the last process using it exits, so no test leaves one behind.
SMOLLM2 = {"provider": "local", "local_model": "smollm2-135m", "context_window": 2048, "max_answer_tokens": 96,
           "temperature": 0.0, "timeout_seconds": 120, "max_retries": 0, "keep_alive": 0}

# A long note about tomato seeds: the one that does not fit a small context window whole.
SEED_DIARY = " ".join(
    f"Day {day}: the greenhouse tomatoes were checked for ripeness, the best fruit of plant {day} was "
    f"cut open, its seeds were scooped into a labelled jar of water to ferment for three days, then "
    f"rinsed, dried on paper towels for a week and stored in envelope {day} in a cool dark drawer."
    for day in range(1, 25))


def write_garden_notes(folder: Path, compost_extra: str = "") -> Path:
    """Six notes in `folder` (made): tomatoes (with tags and a Pests section), Rust, sourdough (.txt),
    household pests, compost (+ `compost_extra`, e.g. a prompt injection) and the seed diary."""
    (folder / "garden").mkdir(parents=True)
    (folder / "home").mkdir()
    (folder / "garden" / "tomatoes.md").write_text(
        "---\ntitle: Growing tomatoes\ntags: [garden, food]\n---\n# Growing tomatoes\n\n"
        "Tomatoes need six hours of direct sun and deep watering twice a week.\n\n"
        "## Pests\n\nAphids and hornworms attack tomato plants; pick hornworms off by hand.\n", encoding="utf-8")
    (folder / "rust.md").write_text(
        "# Rust ownership\n\nEach value in Rust has a single owner. When the owner goes out of scope, "
        "the value is dropped.\n", encoding="utf-8")
    (folder / "bread.txt").write_text(
        "Sourdough bread rises with a wild yeast starter fed with flour and water.\n", encoding="utf-8")
    (folder / "home" / "pests.md").write_text(
        "# Household pests\n\nMice and cockroaches are the usual household pests; seal cracks and keep "
        "food in closed boxes.\n", encoding="utf-8")
    extra = f"\n\n{compost_extra}" if compost_extra else ""
    (folder / "garden" / "compost.md").write_text(
        f"# Compost\n\nCompost needs greens and browns in equal parts, turned every week.{extra}\n", encoding="utf-8")
    (folder / "garden" / "tomato-seeds.md").write_text(f"# Saving tomato seeds\n\n{SEED_DIARY}\n", encoding="utf-8")
    return folder
