"""The harness behind `python -m bench`: the world, the servers, the load and the table."""
