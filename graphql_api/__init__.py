"""The Strawberry GraphQL layer (not built yet: see the README's "Not built yet").

Named ``graphql_api`` rather than ``graphql``: a top-level ``graphql`` package would shadow
graphql-core, which Strawberry imports.
"""
