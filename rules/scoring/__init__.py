"""Credit evaluation's pure functions that apply `rules.evaluation` and the catalogue.

`graph_model.evaluation` reads the facts, these compute from them, `api.types.evaluation`
maps the results; what needs no configuration is `domain.scoring`.

- `ratings`: a unit's grade A-D from its sanctions and its leaders' black-list entries
- `integrity`: a person's integrity score, the benefits it unlocks, partner recognition
- `publication`: which list types are published and how an entry is shown
- `inspections`: a draw's allowed parameters, and its frame graded
"""
