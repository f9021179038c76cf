"""The Strawberry GraphQL layer at ``/graphql``: the REST API's services seen through another
door (``schema.py``), with the same auth, errors and events, limits for a public server, and
GraphiQL served offline (``router.py``).

Named ``graphql_api`` rather than ``graphql``: a top-level ``graphql`` package would shadow
graphql-core, which Strawberry imports.
"""
