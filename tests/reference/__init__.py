"""An independent reference implementation of the joint sanction check.

`engine` evaluates DESIGN.md §3 in pure Python over a networkx graph (no Cypher, no
compiled role patterns); `worlds` draws small random worlds, loads them into Neo4j and
compares the production engine's answers with the reference's. `ownership` is the
closed form the ownership solver's total holdings are compared with.
"""
