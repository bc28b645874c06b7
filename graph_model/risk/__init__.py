"""Related-party risk for regulators (issue 4).

Every module here follows the project's path: Cypher as constants or small builders,
one query per root field returning shaped maps, Python for what graphs do better in
memory (equity penetration, scoring, communities, export formats).

- `neighbourhood`: bounded neighbourhoods with keyset pages and super-node caps
- `equity`: the pure-Python ownership solver (total holdings through cycles, chains)
- `ownership`: ultimate beneficial owners; `controller`: actual controllers
- `suspected`: links suspected from shared contacts or households (never registered links)
- `risk_profile` with `weights`: explained 0-100 risk scores
- `clusters`: communities of sanctioned and risk-adjacent subjects (networkx Louvain)
- `export`: GraphML and Cytoscape JSON of a neighbourhood
- `search`: subjects by name words, name substring and id prefix
"""
