"""Credit evaluation's queries: unit ratings, the personal integrity score, publication of
lists and differentiated supervision (inspection draws). They read the facts; the scoring
that applies the weights (`rules.evaluation`) is `rules.scoring`, the rest `domain.scoring`."""
