"""Credit evaluation: unit ratings, the personal integrity score, publication of lists
and differentiated supervision (inspection draws). Weights are data (`rules.evaluation`)."""
