"""The only code that talks to Neo4j: driver, schema, Cypher, the embedded runtime."""
