"""The pure parts of risk and credit evaluation: what is computed from facts already read.

`graph_model` reads the facts; these compute from them; `api` maps the results. Scoring
that applies the evaluation rules' weights (`rules/evaluation/*.yaml`) is `rules.scoring`,
built on the weight-free pieces here. Each explained score is a list of `factors.Factor`s:
a code, the points it adds and a detail naming what produced it.

- risk: `risk` with `risk_weights` (the 0-100 score), `equity` (the ownership solver),
  `ownership` (ultimate beneficial owners), `control` (actual controllers), `clusters`
  (Louvain communities), `suspicion` (the bases of suspected links)
- evaluation: `ratings` (grades, whether a sanction applies and how it ended, history
  days), `integrity` (dimensions and points), `inspections` (the draw's algorithm)
"""
