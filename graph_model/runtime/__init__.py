"""The embedded Neo4j: a small Java launcher built by the checked-in pom.xml."""
