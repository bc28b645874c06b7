"""The domain core: identifiers, vocabulary, text and district rules, time, the error
hierarchy and the pure scoring of risk and evaluation.

Pure code only: no I/O, no Neo4j, no GraphQL, no network, no YAML. `rules/`,
`graph_model/`, `seeds/` and `api/` build on it; it imports none of them
(tests/unit/test_layers.py holds every package to its layer).
"""
