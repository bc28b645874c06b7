"""Related-party risk for regulators (issue 4): the queries.

Every module here follows the project's path: Cypher as constants or small builders, one
query per root field returning shaped maps, the rows turned into the facts the pure
functions take. Those are `domain.scoring` (`equity`, `ownership`, `control`, `risk` with
`risk_weights`, `clusters`, `suspicion`); the analysts' export formats and the worker
processes that run the CPU-heavy steps are `api.export` and `api.analytics`.

- `neighbourhood`: bounded neighbourhoods with keyset pages and super-node caps
- `ownership`: the holdings above a unit; `controller`: with its declared controllers
- `suspected`: links suspected from shared contacts or households (never registered links)
- `risk_profile`: the facts of an explained 0-100 risk score
- `clusters`: the district's risk subgraph that communities are found in
- `search`: subjects by name words, name substring and id prefix
- `config`: the queries' tunables
"""
