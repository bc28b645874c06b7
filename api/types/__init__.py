"""One strawberry module per concern; `api.schema` merges their roots."""
