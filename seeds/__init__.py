"""Seed data: the deterministic Wenzhou-scale world generator, the demo world, the loader.

`seeds.generator` makes worlds, `seeds.demo` the demo one, `seeds.loader` writes a world
to Neo4j through the bulk Cypher in `graph_model.bulk`.
"""
