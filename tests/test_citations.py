from ragqa.citations import check_citations, parse_citations

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
