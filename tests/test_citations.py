from ragqa.answer.citations import check_citations, parse_citations

PASSAGES = [
    "Tomatoes need six hours of direct sun and deep watering twice a week.",
    "Each value in Rust has a single owner; when the owner goes out of scope the value is dropped.",
]


def test_parse_finds_single_and_grouped_numbers():
    assert parse_citations("A [1]. B [2, 3]. C [1;2]") == [1, 2, 3, 1, 2]


def test_out_of_range_numbers_are_removed_and_reported():
    check = check_citations("Tomatoes need direct sun [1][7].", PASSAGES)
    assert check.text == "Tomatoes need direct sun [1]."
    assert check.invalid == [7]
    assert check.cited == [1]


def test_a_citation_to_a_passage_that_does_not_support_the_sentence_is_repointed():
    check = check_citations("A Rust value is dropped when its owner goes out of scope [1].", PASSAGES)
    assert check.cited == [2]
    assert check.repointed == [(1, 2)]


def test_an_uncited_answer_gets_the_clearly_supporting_passage():
    check = check_citations("Tomatoes need six hours of sun.", PASSAGES)
    assert check.cited == [1] and check.added == [1]


def test_an_unsupported_uncited_answer_stays_uncited():
    check = check_citations("The notes do not say.", PASSAGES)
    assert check.cited == []


def test_a_citation_after_the_full_stop_is_checked_like_any_other():
    """Models often write "... sun. [2]": the number belongs to the sentence before it (it used to escape the check)."""
    check = check_citations("Tomatoes need six hours of direct sun. [2]", PASSAGES)
    assert check.text == "Tomatoes need six hours of direct sun. [1]"
    assert check.repointed == [(2, 1)]


def test_a_weakly_supported_citation_moves_to_a_passage_that_supports_it_clearly_better():
    passages = ["Tomatoes are a fruit grown in gardens.",  # 'tomatoes' only
                "Tomatoes need six hours of direct sun and deep watering."]
    check = check_citations("Tomatoes need six hours of sun [1].", passages)
    assert check.cited == [2] and check.repointed == [(1, 2)]


def test_a_citation_that_is_about_as_well_supported_as_the_best_is_kept():
    passages = ["Tomatoes need six hours of sun.", "Tomatoes need six hours of direct sun daily."]
    assert check_citations("Tomatoes need six hours of sun [2].", passages).cited == [2]
    assert check_citations("Tomatoes need six hours of sun [1].", passages).cited == [1]
