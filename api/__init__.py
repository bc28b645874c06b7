"""GraphQL only: strawberry types, resolvers, auth, errors, the ASGI app, the CLI."""
